// The till's product search (F8) and payment: cash with change, card, split, the receipt.
// `cards` holds the tender parts taken before the cash: card, stored value (till_loyalty.js),
// WeChat Pay / Alipay codes (till_paycode.js; their parts carry the attempt's id).
// A mixin merged into the till component (till.js); prices still come only from the server.
(function () {
  "use strict";

  const SEARCH_DELAY_MS = 200;
  // The terminal slip's reference number (参考号); the server checks the same rule.
  const CARD_REFERENCE = /^[A-Za-z0-9]{4,32}$/;

  window.shouyinTillPay = function () {
    const u = window.shouyinTillUtil;
    return {
      // ---- product search -------------------------------------------------------------
      openSearch: function () {
        this.results = [];
        this.resultIndex = 0;
        this.searchState = "";
        this.openDialog("search");
      },
      searchInput: function () {
        clearTimeout(this.searchTimer);
        const self = this;
        this.searchTimer = setTimeout(function () { self.runSearch(); }, SEARCH_DELAY_MS);
      },
      runSearch: async function () {
        const q = String(this.form.q).trim();
        const seq = ++this.searchSeq;
        if (!q) { this.results = []; this.searchState = ""; return; }
        this.searchState = this.t.searching;
        try {
          const page = await window.shouyin.api("GET", "/api/v1/products?limit=10&q=" + encodeURIComponent(q));
          if (seq !== this.searchSeq) return;
          this.results = page.items.filter(function (p) { return p.active; });
          this.resultIndex = 0;
          this.searchState = this.results.length ? "" : this.t.no_results;
        } catch (error) {
          if (seq !== this.searchSeq) return;
          this.searchState = "";
          this.fail(error);
        }
      },
      searchKey: function (event) {
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          const n = this.results.length;
          if (!n) return;
          this.resultIndex = (this.resultIndex + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
          const self = this;
          this.$nextTick(function () {
            const row = self.$root.querySelector('[data-result="' + self.resultIndex + '"]');
            if (row) row.scrollIntoView({ block: "nearest" });
          });
        }
      },
      submitSearch: async function () {
        clearTimeout(this.searchTimer);
        if (!this.results.length) { await this.runSearch(); return; }
        this.pickResult(this.resultIndex);
      },
      pickResult: function (i) {
        const product = this.results[i];
        if (!product) return;
        this.closeDialog();
        this.addProduct(product);
      },

      // ---- payment --------------------------------------------------------------------
      get quickAmounts() {
        const due = this.due;
        const amounts = [due];
        [1000, 5000, 10000].forEach(function (step) {
          const next = Math.ceil(due / step) * step;
          if (next > 0 && amounts.indexOf(next) < 0) amounts.push(next);
        });
        const self = this;
        return amounts.map(function (amount, i) {
          return { amount: amount, label: i === 0 ? self.t.exact + " " + self.yuan(amount) : self.yuan(amount) };
        });
      },
      get cashGiven() {
        const text = String(this.form.cash).trim();
        return text === "" ? this.due : u.scaled(text, 2);
      },
      get changeText() {
        const given = this.cashGiven;
        if (given === null) return "—";
        return given >= this.due ? this.yuan(given - this.due) : "—";
      },
      get shortText() {
        const given = this.cashGiven;
        return given !== null && given < this.due ? this.yuan(this.due - given) : "";
      },
      setCash: function (amount) {
        this.form.cash = u.yuanPlain(amount);
        const input = this.$root.querySelector('[data-dialog="cash"] [data-focus]');
        if (input) input.focus();
      },
      payCash: async function () {
        if (this.busy || !(await this.ensureQuoted())) return;
        this.openDialog("cash", { cash: "" });
      },
      payCard: async function () {
        if (this.busy || !(await this.ensureQuoted())) return;
        if (this.due <= 0) { this.payCash(); return; }
        this.openDialog("card", { cardAmount: u.yuanPlain(this.due), reference: "" });
      },
      submitCash: function () {
        const given = this.cashGiven;
        if (given === null) { this.say(this.t.bad_amount); return; }
        const payments = this.cardPayments();
        if (given > 0 || !payments.length) payments.push({ method: "cash", amount: given, reference: null });
        this.submitOrder(payments);
      },
      submitCard: function () {
        const text = String(this.form.cardAmount).trim();
        const amount = text === "" ? this.due : u.scaled(text, 2);
        if (!amount) { this.say(this.t.bad_amount); return; }
        if (amount > this.due) { this.say(u.fmt(this.t.paycode_over_due, { amount: this.yuan(this.due) })); return; }
        const reference = String(this.form.reference).trim();
        if (!CARD_REFERENCE.test(reference)) {
          this.say(this.t.card_reference_needed);
          this.focusWhenShown('[data-dialog="card"] [data-testid="card-reference"]', true);
          return;
        }
        if (amount < this.due) {
          // A split: the card takes part, the rest is paid in cash (which may give change).
          this.cards.push({ method: "card", amount: amount, reference: reference });
          this.openDialog("cash", { cash: "" });
          this.say(u.fmt(this.t.card_part, { amount: this.yuan(amount), remaining: this.yuan(this.due) }), "info");
          return;
        }
        const payments = this.cardPayments();
        payments.push({ method: "card", amount: amount, reference: reference });
        this.submitOrder(payments);
      },
      removeCards: async function () {
        // A paid payment code is given back (reversed) before its part leaves the sale; a
        // part whose reversal fails stays, so no charge is ever forgotten.
        const codes = this.cards.filter(function (c) { return c.attemptId; });
        for (const part of codes) {
          try {
            const done = await window.shouyin.api("POST", "/api/v1/payment-codes/" + part.attemptId + "/cancel?register_id=" + this.registerId);
            if (done.status !== "reversed") { this.say(this.t.paycode_undo_failed); return; }
          } catch (error) {
            this.fail(error);
            return;
          }
          this.cards = this.cards.filter(function (c) { return c.attemptId !== part.attemptId; });
        }
        this.cards = [];
        this.say(codes.length ? this.t.paycode_undone : this.t.card_removed, "info");
      },
      // A sale given up with a paid payment code in it: the code is reversed (refunded).
      reverseOpenCodes: function () {
        const self = this;
        this.cards.filter(function (c) { return c.attemptId; }).forEach(function (part) {
          window.shouyin.api("POST", "/api/v1/payment-codes/" + part.attemptId + "/cancel?register_id=" + self.registerId).then(function () {
            self.say(self.t.paycode_undone, "info");
          }).catch(function (error) {
            // The server's recovery reverses a paid code no sale used (docs/payments.md).
            console.warn("payment code not reversed", error);
          });
        });
      },
      // The one label of a tender part (the pay dialogs' lists and the totals panel).
      tenderLabel: function (part) {
        const labels = { cash: this.t.paid_by_cash, card: this.t.paid_by_card,
                         stored_value: this.t.paid_by_sv, wechat: this.t.paid_by_wechat,
                         alipay: this.t.paid_by_alipay };
        return labels[part.method || "card"] || part.method;
      },
      cardPayments: function () {
        return this.cards.map(function (c) { return { method: c.method || "card", amount: c.amount, reference: c.reference }; });
      },
      submitOrder: async function (payments) {
        if (this.busy) return;
        this.busy = true;
        const body = Object.assign(this.cartBody(), {
          client_uuid: this.clientUuid, register_id: this.registerId, payments: payments,
          member_id: this.member ? this.member.id : null,
        });
        try {
          const order = await this.postOrder(body);
          this.clearMessage();
          this.dialog = null;
          this.showReceipt(order);
          this.warnStock(order.stock_warnings);
        } catch (error) {
          this.fail(error);
        } finally {
          this.busy = false;
        }
      },
      // POST the order. After a lost answer the cashier may pay again differently (another
      // cash amount, the card): the server then refuses the sale's UUID for a different
      // request (409 order.uuid_reused), which proves an earlier request was stored, so that
      // request is sent again as it was and the server returns the order it made.
      postOrder: async function (body) {
        try {
          const order = await window.shouyin.api("POST", "/api/v1/orders", body);
          this.unanswered = [];
          return order;
        } catch (error) {
          if (!error || !error.status) { this.unanswered.push(body); throw error; }
          if (error.code !== "order.uuid_reused") throw error;
          const lost = this.unanswered.filter(function (b) { return b.client_uuid === body.client_uuid; });
          for (const earlier of lost) {
            const order = await window.shouyin.api("POST", "/api/v1/orders", earlier).catch(function () { return null; });
            if (order) { this.unanswered = []; return order; }
          }
          throw error;
        }
      },
      // The sale went through but took products below zero (setting negative_stock = "warn"):
      // the cashier hears of it once, so the shelf or the books can be checked.
      warnStock: function (warnings) {
        if (!warnings || !warnings.length) return;
        const products = warnings.map(function (w) { return w.name + " (" + w.on_hand + ")"; }).join(", ");
        this.say(this.t.stock_warning ? u.fmt(this.t.stock_warning, { products: products }) : "⚠ " + products, "info");
      },
      showReceipt: async function (order) {
        this.receipt = { id: order.id, number: order.number, total: order.total, paid: order.paid,
                         change: order.change, payments: order.payments, loyalty: order.loyalty || null,
                         text: "" };
        try {
          const res = await fetch("/api/v1/orders/" + order.id + "/receipt?format=text&paper=80",
                                  { headers: { Accept: "text/plain" } });
          if (!res.ok) throw new Error(res.statusText);
          const text = await res.text();
          if (this.receipt && this.receipt.id === order.id) this.receipt.text = text;
        } catch (error) {
          if (this.receipt && this.receipt.id === order.id) this.receipt.text = this.t.receipt_failed;
        }
      },
      newSale: function () {
        clearTimeout(this.quoteTimer);
        this.quoteSeq++;
        this.lines = [];
        this.orderDiscount = null;
        this.selected = -1;
        this.quote = null;
        this.quotedKey = "";
        this.quoting = false;
        this.good = { lines: [], orderDiscount: null };
        if (!this.receipt) this.reverseOpenCodes();
        this.cards = [];
        // A payment code still being charged belongs to this sale, never to the next one.
        if (this.resetPayCode) this.resetPayCode();
        this.member = null;
        if (this.resetLoyalty) this.resetLoyalty();
        this.receipt = null;
        this.dialog = null;
        this.clientUuid = u.newUuid();
        this.unanswered = [];
        this.clearMessage();
        const self = this;
        this.$nextTick(function () { self.focusScan(); });
      },
    };
  };
})();
