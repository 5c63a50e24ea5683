// A form marked data-autosubmit carries a SAML message onwards (HTTP-POST binding): it is sent
// as soon as the page is shown; without JavaScript its button does the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form) form.submit();
})();
