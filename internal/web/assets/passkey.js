// Passkeys, as progressive enhancement. Every form marked data-passkey
// ("get" to sign in or prove a second factor, "create" to add a passkey)
// asks data-options for the WebAuthn options, lets the browser talk to the
// authenticator, puts the answer in the form and submits it; the server
// checks it like any other proof. Without JavaScript (or WebAuthn) these
// sections stay hidden and passwords and codes still work.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) return;

  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function requestOptions(o) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    o.challenge = b64urlToBuf(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return o;
  }
  function creationOptions(o) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    o.challenge = b64urlToBuf(o.challenge);
    o.user.id = b64urlToBuf(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return o;
  }
  function credentialJSON(c) {
    if (c.toJSON) return c.toJSON();
    var r = c.response, out = { id: c.id, rawId: bufToB64url(c.rawId), type: c.type, response: {} };
    ["clientDataJSON", "authenticatorData", "signature", "userHandle", "attestationObject"].forEach(function (k) {
      if (r[k]) out.response[k] = bufToB64url(r[k]);
    });
    if (r.getTransports) out.response.transports = r.getTransports();
    out.clientExtensionResults = c.getClientExtensionResults ? c.getClientExtensionResults() : {};
    return out;
  }

  function enhance(form) {
    var section = form.closest("[data-passkey-section]") || form;
    var error = form.querySelector("[data-passkey-error]");
    var button = form.querySelector("[data-passkey-start]");
    section.hidden = false;
    button.addEventListener("click", function () {
      if (error) error.hidden = true;
      var body = new URLSearchParams();
      var from = form.dataset.workspaceFrom && document.getElementById(form.dataset.workspaceFrom);
      if (from) {
        form.elements.workspace.value = from.value;
        body.set("workspace", from.value);
      }
      fetch(form.dataset.options, { method: "POST", credentials: "same-origin", body: body })
        .then(function (res) { if (!res.ok) throw new Error(String(res.status)); return res.json(); })
        .then(function (data) {
          form.elements.challenge.value = data.challenge;
          var pk = data.options.publicKey;
          return form.dataset.passkey === "create"
            ? navigator.credentials.create({ publicKey: creationOptions(pk) })
            : navigator.credentials.get({ publicKey: requestOptions(pk) });
        })
        .then(function (cred) {
          form.elements.response.value = JSON.stringify(credentialJSON(cred));
          form.submit();
        })
        .catch(function () {
          if (error) {
            error.textContent = form.dataset.failed;
            error.hidden = false;
          }
        });
    });
  }
  document.querySelectorAll("form[data-passkey]").forEach(enhance);
})();
