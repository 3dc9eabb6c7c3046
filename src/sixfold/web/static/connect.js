// "Connect a channel": after the form, go on to the network at once. A redirect in answer to
// the form would be blocked by the page's `form-action 'self'` policy, which browsers apply to
// every redirect of a form's navigation; a link followed by a script is not a form.
"use strict";
(() => {
  const link = document.querySelector("a[data-follow-now]");
  if (link) window.location.assign(link.href);
})();
