// Starts Swagger UI or ReDoc on /schema pages (a file, not an inline script: the pages run under a strict CSP).
"use strict";
for (const container of document.querySelectorAll("[data-ui]")) {
  const spec = container.dataset.spec;
  if (container.dataset.ui === "swagger") {
    window.ui = SwaggerUIBundle({
      url: spec,
      dom_id: "#swagger-container",
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "BaseLayout",
    });
  } else if (container.dataset.ui === "redoc") {
    Redoc.init(spec, {}, container);
  }
}
