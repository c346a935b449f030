// Shared browser helpers: CSRF header on every write, errors shown where HTMX puts content.
(function () {
  function csrf() { return document.body ? document.body.dataset.csrf || "" : ""; }
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrf();
  });
  if (window.htmx) {
    // Validation and domain errors render an inline message: swap them like a success.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[4]..", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
  }
  window.shouyin = {
    csrf: csrf,
    api: async function (method, url, body) {
      const init = { method: method, headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" } };
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      const res = await fetch(url, init);
      let data = null;
      const text = await res.text();
      try { data = text ? JSON.parse(text) : null; } catch (err) { data = { message: text }; }
      if (!res.ok) {
        const error = new Error((data && data.message) || res.statusText);
        error.code = data && data.code;
        error.status = res.status;
        throw error;
      }
      return data;
    },
    yuan: function (fen) {
      const sign = fen < 0 ? "-" : "";
      const abs = Math.abs(fen);
      return sign + "￥" + Math.floor(abs / 100) + "." + String(abs % 100).padStart(2, "0");
    },
  };
})();
