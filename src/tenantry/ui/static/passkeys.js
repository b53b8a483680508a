// Passkeys on Tenantry's hosted pages (WebAuthn). No inline script: the pages' CSP allows only this file.
//
// A form with data-passkey="register" or "authenticate" is shown only where the browser can use passkeys.
// Submitting it (a button: Enter or Space from the keyboard) posts the form to data-options for the WebAuthn
// options, hands them to the browser's authenticator, puts its answer in the form's "credential" field and
// posts the form to its own action, which answers with a page like any other form.
// What it tells the user comes from the form's data-say-* attributes, written by the page in its language
// (the server's refusals are in that language too).
"use strict";

(function () {
  var canUse =
    window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

  function words(form, name) {
    return form.dataset["say" + name] || "";
  }

  function say(form, text) {
    var status = form.querySelector("[data-passkey-status]");
    if (status) {
      status.textContent = text;
    }
  }

  async function ceremony(form) {
    var response = await fetch(form.dataset.options, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    var body = await response.json().catch(function () {
      return {};
    });
    if (!response.ok) {
      throw new Error(body.detail || words(form, "Refused"));
    }
    var credential;
    if (form.dataset.passkey === "register") {
      credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(body),
      });
    } else {
      credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(body),
      });
    }
    form.elements.credential.value = JSON.stringify(credential.toJSON());
  }

  function start(form) {
    var button = form.querySelector("button");
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      if (form.elements.credential.value) {
        return; // the authenticator answered: post it
      }
      event.preventDefault();
      button.disabled = true;
      say(form, words(form, "Wait"));
      ceremony(form).then(
        function () {
          say(form, "");
          form.submit();
        },
        function (error) {
          button.disabled = false;
          button.focus();
          var cancelled = error && error.name === "NotAllowedError";
          say(form, cancelled ? words(form, "Cancelled") : words(form, "Failed") + " " + error.message);
        },
      );
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!canUse) {
      return;
    }
    document.querySelectorAll("form[data-passkey]").forEach(start);
  });
})();
