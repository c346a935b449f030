// Payment codes (付款码, ⇧F10): the cashier scans the WeChat Pay or Alipay code on the
// customer's phone; the server charges it through the gateway and answers with a final state
// (succeeded, failed, reversed) or "waiting" (the customer types a password: we poll).
// A paid code becomes a tender part (this.cards, like card and stored value in till_pay.js)
// whose reference is the attempt's trade number; the order claims it when it is submitted.
// Every charge carries its own client UUID: a retry after a network flicker charges once.
// Each attempt is tagged with the sale it pays (the sale's clientUuid): an answer that arrives
// after that sale was given up or finished is never put on the next sale, it is reversed.
(function () {
  "use strict";

  const POLL_MS = 2000;
  const SLOW_MS = 3000; // no answer yet: the server is checking with the gateway
  const RETRIES = 5; // network failures before the cashier is told to check again
  const CODE = /^\d{16,24}$/; // product barcodes have at most 14 digits

  // The states in which the till is still finding out what became of the charge.
  const BUSY = ["charging", "checking", "waiting", "cancelling"];
  // "lost": the charge was sent but no answer came back after RETRIES tries; ⇧F10 (or Enter
  // in the dialog) asks again with the same UUID.
  function idle() {
    return { state: "scan", attempt: null, uuid: null, sale: null, amount: 0, code: "", left: 0,
             error: "", tries: 0 };
  }

  window.shouyinTillPayCode = function () {
    const u = window.shouyinTillUtil;
    return {
      paycode: idle(),
      paycodeTimers: { poll: null, slow: null, tick: null },

      payCodeAction: function (event) {
        return event.key === "F10" && event.shiftKey ? this.openPayCode : null;
      },
      payCodeInit: function () {
        const self = this;
        // Esc while the customer is asked for a password cancels (reverses) the payment.
        this.$watch("dialog", function (now, before) {
          if (before === "paycode" && now !== "paycode" && self.paycode.state === "waiting") {
            self.cancelPayCode();
          }
        });
      },
      // For till.js's scan: a 16-24 digit code scanned while the cart has lines is a payment.
      scanPayCode: function (code) {
        if (!CODE.test(code) || !this.lines.length || this.dialog || this.receipt) return false;
        this.openPayCode(code);
        return true;
      },

      openPayCode: async function (scanned) {
        if (this.busy) return;
        if (this.paycodeBusy) {
          // Still finding out (the dialog was closed meanwhile): show how it goes.
          if (this.dialog !== "paycode") this.openDialog("paycode", { value: u.yuanPlain(this.paycode.amount) });
          return;
        }
        if (this.paycode.state === "lost") {
          this.openDialog("paycode", { value: u.yuanPlain(this.paycode.amount), code: "" });
          this.resumePayCode();
          return;
        }
        if (!(await this.ensureQuoted())) return;
        if (this.due <= 0) { this.say(this.t.paycode_nothing_due); return; }
        this.paycode = idle();
        const code = typeof scanned === "string" ? scanned : "";
        this.openDialog("paycode", { value: u.yuanPlain(this.due), code: code });
        if (code) this.submitPayCode();
      },
      // The last charge never got an answer (network): ask again with the same UUID, which
      // finds that charge instead of making another.
      resumePayCode: function () {
        this.paycode.state = "checking";
        this.paycode.tries = 0;
        this.paycode.error = "";
        this.sendPayCode();
      },
      get paycodeBusy() {
        return BUSY.indexOf(this.paycode.state) >= 0;
      },
      // Whether an answer about attempt p may still act on the till: p is the attempt the till
      // follows, and the sale it was started for is the one on the till, not yet paid.
      payCodeCurrent: function (p) {
        return this.paycode.uuid === p.uuid && p.sale === this.clientUuid && !this.receipt;
      },
      get paycodeStatusText() {
        const p = this.paycode;
        const t = this.t;
        const name = p.attempt && p.attempt.method === "alipay" ? t.paycode_alipay : t.paycode_wechat;
        const texts = {
          charging: t.paycode_charging,
          checking: u.fmt(t.paycode_checking, { name: p.attempt ? name : t.paycode_gateway }),
          lost: u.fmt(t.paycode_checking, { name: t.paycode_gateway }),
          waiting: u.fmt(t.paycode_waiting, { seconds: p.left }),
          cancelling: t.paycode_cancelling,
          succeeded: u.fmt(p.attempt && p.attempt.message === "checked_after_timeout"
            ? t.paycode_paid_after_check : t.paycode_paid, { name: name, amount: this.yuan(p.amount) }),
          failed: u.fmt(t.paycode_declined, { reason: p.attempt ? p.attempt.message : "" }),
          reversed: p.attempt && p.attempt.message === "cancelled" ? t.paycode_cancelled : t.paycode_reversed,
        };
        return texts[p.state] || "";
      },

      submitPayCode: function () {
        if (this.paycodeBusy || this.busy) return;
        if (this.paycode.state === "succeeded") { this.finishPayCode(); return; }
        if (this.paycode.state === "lost") { this.resumePayCode(); return; }
        const code = String(this.form.code || "").trim();
        const text = String(this.form.value).trim();
        const amount = text === "" ? this.due : u.scaled(text, 2);
        this.paycode.error = "";
        if (!amount) { this.paycode.error = this.t.bad_amount; return; }
        if (amount > this.due) {
          this.paycode.error = u.fmt(this.t.paycode_over_due, { amount: this.yuan(this.due) });
          return;
        }
        if (!code) { this.paycode.error = this.t.paycode_scan_first; return; }
        this.paycode = Object.assign(idle(), { state: "charging", uuid: u.newUuid(), sale: this.clientUuid,
                                               amount: amount, code: code });
        this.form.code = "";
        this.sendPayCode();
      },
      sendPayCode: async function () {
        const p = this.paycode;
        const body = { client_uuid: p.uuid, store_id: this.store.id, register_id: this.registerId,
                       code: p.code, amount: p.amount };
        const self = this;
        clearTimeout(this.paycodeTimers.slow);
        this.paycodeTimers.slow = setTimeout(function () {
          if (self.paycode.uuid === p.uuid && self.paycode.state === "charging") self.paycode.state = "checking";
        }, SLOW_MS);
        try {
          const attempt = await window.shouyin.api("POST", "/api/v1/payment-codes", body);
          if (this.payCodeCurrent(p)) this.followPayCode(attempt);
          else this.abandonPayCode(attempt);
        } catch (error) {
          if (!this.payCodeCurrent(p)) return; // nothing answered: the server's recovery settles it
          if (error.status) {
            // Refused before any charge (format, shift, rights): the cashier can scan again.
            this.paycode = Object.assign(idle(), { error: error.message });
            this.refocusPayCode();
            return;
          }
          // The network flickered: the same UUID again never charges twice.
          this.paycode.state = "checking";
          this.paycode.tries += 1;
          if (this.paycode.tries > RETRIES) {
            this.paycode.state = "lost";
            this.paycode.error = this.t.network;
            if (this.dialog === "paycode") this.focusWhenShown('[data-testid="paycode-submit"]');
            return;
          }
          this.paycodeTimers.poll = setTimeout(function () { self.sendPayCode(); }, POLL_MS);
        } finally {
          clearTimeout(this.paycodeTimers.slow);
        }
      },
      followPayCode: function (attempt) {
        const p = this.paycode;
        p.attempt = attempt;
        this.stopPayCodeTimers();
        const self = this;
        if (attempt.status === "succeeded") { this.paidByCode(attempt); return; }
        if (attempt.status === "failed" || attempt.status === "reversed") {
          p.state = attempt.status;
          this.refocusPayCode();
          return;
        }
        if (attempt.status === "waiting") {
          if (p.state !== "waiting") {
            p.state = "waiting";
            p.left = attempt.wait_seconds;
            this.paycodeTimers.tick = setInterval(function () {
              if (self.paycode.left > 0) self.paycode.left -= 1;
            }, 1000);
          }
        } else {
          p.state = "checking"; // pending or reversing: the server is still finding out
        }
        this.paycodeTimers.poll = setTimeout(function () { self.pollPayCode(attempt.id); }, POLL_MS);
      },
      pollPayCode: async function (id) {
        const p = this.paycode;
        if (!p.attempt || p.attempt.id !== id) return;
        try {
          const attempt = await window.shouyin.api("GET", "/api/v1/payment-codes/" + id + "?register_id=" + this.registerId);
          if (!this.payCodeCurrent(p)) { this.abandonPayCode(attempt); return; }
          // While a cancel is on its way, its answer says how the attempt ended.
          if (this.paycodeBusy && p.state !== "cancelling") this.followPayCode(attempt);
        } catch (error) {
          if (!this.payCodeCurrent(p)) return; // the sale was given up: newSale cancelled it
          const self = this;
          this.paycodeTimers.poll = setTimeout(function () { self.pollPayCode(id); }, POLL_MS);
        }
      },
      cancelPayCode: async function () {
        const p = this.paycode;
        if (!p.attempt) return;
        this.stopPayCodeTimers();
        p.state = "cancelling";
        try {
          const attempt = await window.shouyin.api("POST", "/api/v1/payment-codes/" + p.attempt.id + "/cancel?register_id=" + this.registerId);
          if (!this.payCodeCurrent(p)) { this.abandonPayCode(attempt); return; }
          this.followPayCode(attempt);
          if (this.dialog !== "paycode") this.say(this.t.paycode_cancelled, "info");
        } catch (error) {
          if (!this.payCodeCurrent(p)) return; // the sale was given up: newSale cancelled it
          p.state = "checking";
          this.fail(error);
          const self = this;
          this.paycodeTimers.poll = setTimeout(function () { self.pollPayCode(p.attempt.id); }, POLL_MS);
        }
      },
      // The sale is over (given up, parked or paid; till_pay.js newSale): the timers stop and
      // an attempt still unsettled is cancelled, so its answer can never pay the next sale.
      // A paid code is a tender part: newSale gives it back with the sale's other parts.
      resetPayCode: function () {
        const p = this.paycode;
        this.stopPayCodeTimers();
        clearTimeout(this.paycodeTimers.slow);
        this.paycode = idle();
        if (p.attempt && BUSY.indexOf(p.state) >= 0) this.abandonPayCode(p.attempt);
      },
      // An attempt no sale follows any more is reversed (a paid one is refunded), and the
      // cashier is told. A reversal still on its way is asked about again a few times; after
      // that the server's recovery settles it (docs/payments.md).
      abandonPayCode: async function (attempt, tries) {
        if (attempt.status === "failed" || attempt.status === "reversed") return;
        const paid = attempt.status === "succeeded";
        let done = null;
        try {
          done = await window.shouyin.api("POST", "/api/v1/payment-codes/" + attempt.id + "/cancel?register_id=" + this.registerId);
        } catch (error) {
          if (error && error.status) { console.warn("payment code not reversed", error); return; }
        }
        if (done && done.status === "reversed") {
          this.say(paid ? this.t.paycode_undone : this.t.paycode_cancelled, "info");
          return;
        }
        if (done && done.status === "failed") return; // the customer was never charged
        const n = (tries || 0) + 1;
        if (n > RETRIES) { console.warn("payment code left to the server's recovery", attempt.id); return; }
        const self = this;
        setTimeout(function () { self.abandonPayCode(done || attempt, n); }, POLL_MS);
      },
      stopPayCodeTimers: function () {
        clearTimeout(this.paycodeTimers.poll);
        clearInterval(this.paycodeTimers.tick);
      },
      refocusPayCode: function () {
        if (this.dialog === "paycode") this.focusWhenShown('[data-dialog="paycode"] [data-focus]', true);
      },

      // The code paid: a tender part like a card, then the sale if nothing is left to pay.
      paidByCode: function (attempt) {
        this.paycode.state = "succeeded";
        this.cards.push({ method: attempt.method, amount: attempt.amount, reference: attempt.trade_no,
                          attemptId: attempt.id });
        if (this.due > 0) {
          const name = attempt.method === "alipay" ? this.t.paycode_alipay : this.t.paycode_wechat;
          if (this.dialog === "paycode") this.closeDialog();
          this.say(u.fmt(this.t.paycode_part, { name: name, amount: this.yuan(attempt.amount),
                                                remaining: this.yuan(this.due) }), "info");
          return;
        }
        this.finishPayCode();
      },
      finishPayCode: function () {
        if (this.due > 0) { this.closeDialog(); return; }
        this.submitOrder(this.cardPayments());
      },
    };
  };
})();
