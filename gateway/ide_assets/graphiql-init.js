// Boots GraphiQL for the billing gateway. Served from /static/graphiql/init.js by
// gateway/ide.py; configuration comes from data-* attributes on #graphiql so the
// page needs no inline script (works under a `script-src 'self'` CSP).
(function () {
  "use strict";

  var root = document.getElementById("graphiql");
  var config = root.dataset;

  if (typeof window.React === "undefined" || typeof window.GraphiQL === "undefined") {
    root.textContent =
      "The GraphiQL assets did not load from " + config.assets + "/ . " +
      "They are installed from the npm registry by `make setup` " +
      "(npm ci in gateway/ide_assets).";
    root.className = "ide-error";
    return;
  }

  // URL parameters let a query be shared as a link: ?q=...&variables=...&headers=...
  var parameters = {};
  new URLSearchParams(window.location.search).forEach(function (value, key) {
    parameters[key] = value;
  });

  function updateURL(data) {
    Object.assign(parameters, data);
    var search = new URLSearchParams();
    Object.keys(parameters).forEach(function (key) {
      if (parameters[key]) search.set(key, parameters[key]);
    });
    var qs = search.toString();
    history.replaceState(null, "", qs ? "?" + qs : window.location.pathname);
  }

  // Demo mode only: ready-made tabs (query, variables, headers), opened on a first visit.
  var defaultTabs = config.defaultTabs ? JSON.parse(config.defaultTabs) : undefined;

  var fetcher = GraphiQL.createFetcher({ url: config.endpoint });
  var plugins = [];
  if (typeof window.GraphiQLPluginExplorer !== "undefined") {
    plugins.push(GraphiQLPluginExplorer.explorerPlugin());
  }

  function BillingGraphiQL() {
    // With tabs, only a shared link's values are pushed into the editors: the defaults
    // would overwrite the first tab.
    var q = React.useState(parameters.q || (defaultTabs ? undefined : config.defaultQuery));
    var v = React.useState(parameters.variables);
    var h = React.useState(parameters.headers || (defaultTabs ? undefined : config.defaultHeaders));

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: plugins,
      defaultEditorToolsVisibility: true,
      defaultQuery: config.defaultQuery,
      defaultHeaders: config.defaultHeaders,
      defaultTabs: defaultTabs,
      query: q[0],
      variables: v[0],
      headers: h[0],
      onEditQuery: function (value) {
        q[1](value);
        updateURL({ q: value });
      },
      onEditVariables: function (value) {
        v[1](value);
        updateURL({ variables: value });
      },
      onEditHeaders: function (value) {
        h[1](value);
      },
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(root).render(React.createElement(BillingGraphiQL));
})();
