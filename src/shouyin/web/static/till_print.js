// The till's receipt printer: after each sale the receipt goes to the register's printer
// (POST /api/v1/registers/{id}/print/receipt; the server opens the drawer for cash), the
// receipt panel can print it again (重印), and ⇧F6 reprints the last receipt of this till.
// A printer problem is only ever a message: the sale is already saved and stands.
// A mixin merged into the till component (till.js), so `this` is the till.
(function () {
  "use strict";

  window.shouyinTillPrint = function () {
    const u = window.shouyinTillUtil;
    return {
      printState: "",  // "", "printing", "printed", "failed", "none"
      printNote: "",
      printedFor: null,  // the order whose receipt this till printed last
      printNoneSaid: false,

      // ---- start-up (called by till.js) -------------------------------------------------
      printInit: function () {
        const self = this;
        this.$watch("receipt", function (receipt) {
          if (!receipt) { self.printState = ""; self.printNote = ""; return; }
          if (self.printedFor === receipt.id) return;  // the receipt text arriving later
          self.printedFor = receipt.id;
          self.rememberLastReceipt(receipt);
          // A register found to have no printer is not asked again until the page reloads
          // (after a printer is set up) or the register changes: no request per sale.
          if (!self.printNoneSaid) self.printReceipt(receipt.id, false);
        });
        this.$watch("registerId", function () { self.printNoneSaid = false; });
      },
      printAction: function (event) {
        return event.key === "F6" && event.shiftKey ? this.reprintLast : null;
      },

      // ---- the last receipt of this till, kept over a reload ---------------------------
      lastReceiptKey: function () {
        return "shouyin.till.lastReceipt." + this.store.id + "." + this.registerId;
      },
      rememberLastReceipt: function (receipt) {
        const last = { id: receipt.id, number: receipt.number };
        try { localStorage.setItem(this.lastReceiptKey(), JSON.stringify(last)); } catch (e) { /* full */ }
      },
      lastReceipt: function () {
        try { return JSON.parse(localStorage.getItem(this.lastReceiptKey()) || "null"); } catch (e) { return null; }
      },
      reprintLast: function () {
        const last = this.lastReceipt();
        if (!last) { this.say(this.t.print_nothing, "info"); return; }
        this.printReceipt(last.id, true, last.number);
      },
      reprintShown: function () {
        if (this.receipt && this.printState !== "printing") this.printReceipt(this.receipt.id, true);
      },

      // ---- printing -------------------------------------------------------------------
      printReceipt: async function (orderId, reprint, number) {
        const shown = this.receipt && this.receipt.id === orderId;
        if (shown) { this.printState = "printing"; this.printNote = this.t.print_busy; }
        const url = "/api/v1/registers/" + this.registerId + "/print/receipt";
        try {
          await window.shouyin.api("POST", url, { order_id: orderId, reprint: !!reprint });
          const text = reprint ? u.fmt(this.t.print_reprinted, { number: number || (this.receipt ? this.receipt.number : "") })
                               : this.t.print_done;
          this.printShow(orderId, "printed", text);
          if (!shown) this.say(text, "info");
        } catch (error) {
          this.printFailed(orderId, error, shown);
        }
      },
      printFailed: function (orderId, error, shown) {
        if (error && error.code === "printer.none") {
          // Said once per register, quietly, on the receipt panel: a shop without a printer
          // is not an error. Asked for by a key (⇧F6), it is the answer, so it is said.
          this.printShow(orderId, "none", this.printNoneSaid ? "" : this.t.print_none);
          if (!shown) this.say(this.t.print_none, "info");
          this.printNoneSaid = true;
          return;
        }
        const reason = error && error.status ? error.message : this.t.network;
        const text = u.fmt(this.t.print_failed, { reason: reason });
        this.printShow(orderId, "failed", text);
        if (!shown) this.say(text);
      },
      printShow: function (orderId, state, text) {
        if (!this.receipt || this.receipt.id !== orderId) return;
        this.printState = state;
        this.printNote = text;
      },
    };
  };
})();
