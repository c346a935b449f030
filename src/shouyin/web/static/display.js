// The customer display (客显): shows what the till of this register sends over a
// BroadcastChannel of this browser (see till_display.js for what is sent). It makes no request
// of its own, so it keeps working when the network does not, and costs the server nothing.
// Phases: "welcome" (no sale), "selling" (lines, totals; the amount due while paying), "paid"
// (change and thanks, for a few seconds or until the next scan).
(function () {
  "use strict";

  const CLOCK_MS = 10000;

  function emptyState() {
    return { v: 1, lines: [], steps: [], total: 0, items: 0, saved: 0, member: null, pay: null,
             paid: null };
  }

  function twoDigits(n) { return String(n).padStart(2, "0"); }

  function customerDisplay(config) {
    return {
      state: emptyState(),
      // The line added or changed last: highlighted, and scrolled into view.
      latest: null,
      quantities: {},
      // The receipt already shown for long enough: the display goes back to welcome.
      dismissedPaid: null,
      lingerTimer: null,
      clock: "",
      today: "",
      channel: null,

      init: function () {
        const self = this;
        this.tick();
        setInterval(function () { self.tick(); }, CLOCK_MS);
        if (!("BroadcastChannel" in window)) return;
        this.channel = new BroadcastChannel("shouyin-display-" + config.register_id);
        this.channel.onmessage = function (event) { self.receive(event.data); };
        // The till answers with what it shows now (it may have been selling for a while).
        this.channel.postMessage({ type: "hello" });
      },
      tick: function () {
        const now = new Date();
        this.clock = twoDigits(now.getHours()) + ":" + twoDigits(now.getMinutes());
        this.today = now.getFullYear() + "-" + twoDigits(now.getMonth() + 1) + "-" + twoDigits(now.getDate());
      },
      yuan: function (fen) { return window.shouyin.yuan(fen || 0); },

      get phase() {
        const s = this.state;
        if (s.paid && s.paid.id !== this.dismissedPaid) return "paid";
        if (s.lines.length) return "selling";
        return "welcome";
      },

      receive: function (message) {
        if (!message || typeof message !== "object") return;
        if (message.type === "bye") { this.show(emptyState()); return; }
        if (message.type === "state" && message.state && message.state.v === 1) this.show(message.state);
      },
      show: function (next) {
        this.followLatest(next.lines || []);
        const wasPaid = this.state.paid ? this.state.paid.id : null;
        this.state = Object.assign(emptyState(), next);
        if (next.paid && next.paid.id !== wasPaid) this.linger(next.paid.id);
        if (!next.paid) this.dismissedPaid = null;
        this.scrollToLatest();
      },
      // The thanks stay up a few seconds, then the shop's welcome comes back even if the
      // cashier has not started the next sale yet.
      linger: function (paidId) {
        clearTimeout(this.lingerTimer);
        const self = this;
        this.lingerTimer = setTimeout(function () { self.dismissedPaid = paidId; },
                                      config.linger_seconds * 1000);
      },
      followLatest: function (lines) {
        const before = this.quantities;
        const now = {};
        let changed = null;
        lines.forEach(function (line) {
          now[line.key] = line.qty;
          if (before[line.key] !== line.qty) changed = line.key;
        });
        this.quantities = now;
        if (changed !== null) this.latest = changed;
        else if (!(this.latest in now)) this.latest = lines.length ? lines[lines.length - 1].key : null;
      },
      scrollToLatest: function () {
        const self = this;
        this.$nextTick(function () {
          const row = self.$refs.cart && self.$refs.cart.querySelector('tr[data-key="' + self.latest + '"]');
          if (row) row.scrollIntoView({ block: "nearest" });
        });
      },
    };
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("customerDisplay", function () { return customerDisplay(window.DISPLAY); });
  });
})();
