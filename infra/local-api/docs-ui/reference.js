// Renders the local API's own OpenAPI document. A file of its own, not an inline script, so the
// page's Content-Security-Policy can allow scripts from this origin and nothing else.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#reference",
    deepLinking: true,
    docExpansion: "list",
    tryItOutEnabled: false,
    // The online validator's badge would be an image from another origin: the page asks for
    // nothing beyond this server.
    validatorUrl: null,
  });
});
