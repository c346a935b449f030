// The till's side of the customer display (客显, templates/till/display.html): ⇧F8 opens the
// display window for this register, to be put on the second screen of the till PC; the till then
// tells it what the customer may see, over BroadcastChannel("shouyin-display-<register id>"),
// each time the cart, totals, member, payment dialog or receipt change. The display asks for the
// current state with a "hello" when it opens. Nothing goes through the server, so the display
// keeps up while the network is down. A mixin merged into the till component (till.js).
(function () {
  "use strict";

  const VERSION = 1;
  const WINDOW_NAME = "shouyin-display";
  const WINDOW_FEATURES = "popup,width=1024,height=768";
  // What a priced line says was taken off it (as till.js shows in its discount column).
  const OFF_KINDS = ["line_discount", "item_promotion", "tier_discount", "order_promotion",
                     "order_discount", "coupon", "points"];
  // The till's dialogs in which the customer is paying.
  const PAY_DIALOGS = ["cash", "card", "paycode", "stored-value"];

  // "张三丰" -> "张**": the customer sees that the right member is on the sale, and the people
  // queueing behind learn nothing.
  function maskName(name) {
    const chars = Array.from(String(name || "").trim());
    return chars.length ? chars[0] + "**" : "";
  }

  // The channel lives outside Alpine's reactive state: it is not something to watch.
  let channel = null;
  let channelRegister = null;
  let lastState = "";

  window.shouyinTillDisplay = function () {
    return {
      // ---- start-up (called by till.js) -------------------------------------------------
      displayInit: function () {
        const self = this;
        this.displayConnect();
        this.$watch("registerId", function () { self.displayConnect(); });
        this.$watch("displayState", function (state) { self.displayPublish(state); });
        // A closing or reloading till leaves the display on the welcome screen, not on a
        // cart that nobody is selling any more.
        window.addEventListener("pagehide", function () {
          if (channel) channel.postMessage({ type: "bye" });
        });
      },
      displayConnect: function () {
        if (!("BroadcastChannel" in window) || channelRegister === this.registerId) return;
        if (channel) { channel.postMessage({ type: "bye" }); channel.close(); }
        channel = null;
        channelRegister = this.registerId;
        if (!this.registerId) return;
        channel = new BroadcastChannel("shouyin-display-" + this.registerId);
        const self = this;
        channel.onmessage = function (event) {
          if (event.data && event.data.type === "hello") self.displayPublish(self.displayState, true);
        };
        this.displayPublish(this.displayState, true);
      },
      displayPublish: function (state, always) {
        if (!channel || !state || (state === lastState && !always)) return;
        lastState = state;
        channel.postMessage({ type: "state", state: JSON.parse(state) });
      },

      // ---- what the customer sees -----------------------------------------------------
      // A JSON string, so that Alpine's $watch fires only when something shown has changed.
      // Only what the customer may see: no mobile, card number, stored-value balance or cashier
      // details. The member's masked name, tier and points balance (积分) are shown, as Chinese
      // tills do; what this sale pays from stored value is an amount paid, not a balance.
      get displayState() {
        const paid = this.receipt ? this.displayPaid() : null;
        // Once paid, the lines stay on the till until the next sale; the display is done.
        const selling = !paid && this.lines.length > 0;
        const steps = selling && this.quote ? this.displaySteps() : [];
        const subtotal = steps.length && steps[0].kind === "subtotal" ? steps[0].amount : 0;
        return JSON.stringify({
          v: VERSION,
          lines: selling ? this.lines.map(this.displayLine, this) : [],
          steps: steps,
          total: selling ? this.total : 0,
          items: selling ? this.itemCount : 0,
          saved: selling && this.quote ? Math.max(0, subtotal - this.total) : 0,
          member: this.member ? this.displayMember() : null,
          pay: selling && PAY_DIALOGS.indexOf(this.dialog) >= 0 ? this.displayPay() : null,
          paid: paid,
        });
      },
      displayLine: function (line, i) {
        const q = this.rowQuote(i);
        const off = q ? OFF_KINDS.reduce(function (sum, kind) { return sum + (q[kind] || 0); }, 0) : 0;
        return { key: line.key, name: line.product.name, qty: this.qtyText(line),
                 price: this.priceText(line), amount: q ? q.net + q.rounding : null, off: off };
      },
      displaySteps: function () {
        const self = this;
        return this.shownSteps.map(function (step) {
          const label = self.stepText ? self.stepText(step) : self.stepLabel(step.kind);
          return { kind: step.kind, label: label, amount: step.amount };
        });
      },
      displayMember: function () {
        const l = this.loyalty;
        return { name: maskName(this.member.name), tier: this.tierText || (l ? l.tier_name : ""),
                 points: l ? l.points : null };
      },
      displayPay: function () {
        const due = this.due;
        let given = null;
        if (this.dialog === "cash" && String(this.form.cash || "").trim() !== "") {
          given = this.cashGiven;
        }
        return { method: this.dialog, due: due, before: this.paidByCard, given: given,
                 change: given !== null && given >= due ? given - due : null };
      },
      displayPaid: function () {
        const r = this.receipt;
        return { id: r.id, total: r.total, paid: r.paid, change: r.change,
                 points_earned: r.loyalty ? r.loyalty.points_earned : null };
      },

      // ---- opening the display window (⇧F8) ---------------------------------------------
      openDisplay: function () {
        if (!this.registerId) { this.changeRegister(); return; }
        const url = "/till/display?register_id=" + this.registerId;
        // The window already open (on the second screen) is reused, not reloaded.
        const win = window.open("", WINDOW_NAME, WINDOW_FEATURES);
        if (!win) { this.say(this.t.display_blocked); return; }
        let showing = false;
        try {
          showing = win.location.pathname === "/till/display" && win.location.search === "?register_id=" + this.registerId;
        } catch (error) {
          showing = false;
        }
        if (!showing) win.location.href = url;
        win.focus();
        this.displayPublish(this.displayState, true);
      },
      displayAction: function (event) {
        if (event.key === "F8" && event.shiftKey) return this.openDisplay;
        return null;
      },
    };
  };
})();
