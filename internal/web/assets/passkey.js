// Passkeys as a second factor: ask the server for WebAuthn options, let
// the browser talk to the authenticator, and send the answer back in the
// form, which the server checks like any other proof. Without JavaScript
// the section stays hidden and codes still work.
(function () {
  "use strict";
  var form = document.getElementById("passkey-form");
  if (!form || !window.PublicKeyCredential || !navigator.credentials) return;
  document.getElementById("passkey-proof").hidden = false;

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
  function credentialJSON(c) {
    if (c.toJSON) return c.toJSON();
    var r = c.response, out = { id: c.id, rawId: bufToB64url(c.rawId), type: c.type, response: {} };
    ["clientDataJSON", "authenticatorData", "signature", "userHandle"].forEach(function (k) {
      if (r[k]) out.response[k] = bufToB64url(r[k]);
    });
    out.clientExtensionResults = c.getClientExtensionResults ? c.getClientExtensionResults() : {};
    return out;
  }
  var err = document.getElementById("passkey-error");
  document.getElementById("passkey-button").addEventListener("click", function () {
    err.hidden = true;
    fetch(form.dataset.options, { method: "POST", credentials: "same-origin" })
      .then(function (res) { if (!res.ok) throw new Error(String(res.status)); return res.json(); })
      .then(function (data) {
        form.elements.challenge.value = data.challenge;
        return navigator.credentials.get({ publicKey: requestOptions(data.options.publicKey) });
      })
      .then(function (cred) {
        form.elements.response.value = JSON.stringify(credentialJSON(cred));
        form.submit();
      })
      .catch(function () {
        err.textContent = form.dataset.failed;
        err.hidden = false;
      });
  });
})();
