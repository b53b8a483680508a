# Importing the package installs the listener that versions grants (see grant_versions).
from tenantry.core.memberships import grant_versions as grant_versions
