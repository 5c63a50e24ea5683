// The HTTP-POST binding: hand the SAML message to the service without a click.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-autosubmit]");
  if (form) form.submit();
});
