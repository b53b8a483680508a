from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

OTP = "otp"
RECOVERY_CODE = "recovery_code"


class TotpEnrolmentOut(BaseModel):
    secret: str = Field(description="Base32 secret, for authenticator apps that cannot scan the URI.")
    otpauth_uri: str = Field(description="`otpauth://totp/…` URI (what the QR code on the hosted page holds).")


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=16, description="The 6-digit code the authenticator app shows now.")


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="Ten single-use codes, shown once: the user keeps them safe.")


class TotpOut(BaseModel):
    enrolled_at: datetime


class MfaStatusOut(BaseModel):
    methods: list[str] = Field(description="Second factors the account can sign in with: `otp`, `recovery_code`.")
    totp: TotpOut | None = Field(description="The authenticator app, when one is enrolled.")
    recovery_codes_remaining: int
    required: bool = Field(description="Whether an organization of the account (or the platform) requires MFA.")
