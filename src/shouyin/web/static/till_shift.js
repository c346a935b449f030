// The till's shift (交接班): a register sells only inside an open shift. At start and when the
// register changes the till asks the server for the register's open shift; with none, a
// dialog asks for the float and opens one. ⇧F9 opens the shift menu: X report, cash in, cash
// out, no-sale, and closing with a blind count (the expected amounts are shown only after).
// A mixin merged into the till component (till.js), so `this` is the till.
(function () {
  "use strict";

  const MENU_KEYS = { "1": "openShiftX", "2": "no_sale", "3": "in", "4": "out", "5": "openShiftCount" };

  window.shouyinTillShift = function () {
    const u = window.shouyinTillUtil;
    return {
      shift: null,
      // The register whose shift was last asked for: the open-shift dialog only shows once
      // the server has said there is none.
      shiftChecked: null,
      shiftBusy: false,
      shiftReport: null,
      shiftResult: null,
      shiftTenders: ["cash"],

      // ---- start-up (called by till.js) -------------------------------------------------
      shiftInit: function () {
        const self = this;
        this.$watch("registerId", function () { self.loadShift(); });
        // Whenever nothing else is on screen and the register has no shift, ask for one.
        this.$watch("dialog", function (value) { if (!value) self.shiftNudge(); });
        this.$watch("receipt", function (value) { if (!value) self.shiftNudge(); });
        // A sale refused for want of a shift (another window closed it): ask for a new one.
        const baseFail = this.fail;
        this.fail = function (error) {
          baseFail.call(this, error);
          if (error && error.code === "shift.not_open") self.shiftLost();
        };
        if (this.registerId) this.loadShift();
      },
      shiftAction: function (event) {
        if (event.key === "F9" && event.shiftKey) return this.openShiftMenu;
        return null;
      },

      // ---- the register's shift ---------------------------------------------------------
      get shiftLabel() {
        if (!this.shift) return this.t.shift_none;
        return u.fmt(this.t.shift_label, { id: this.shift.id, cashier: this.shift.cashier_name });
      },
      loadShift: async function () {
        const registerId = this.registerId;
        this.shift = null;
        this.shiftChecked = null;
        if (!registerId) return;
        try {
          const found = await window.shouyin.api("GET", "/api/v1/shifts/current?register_id=" + registerId);
          if (registerId !== this.registerId) return;
          this.shift = found;
        } catch (error) {
          if (registerId !== this.registerId) return;
          if (error.code !== "shift.none") { this.fail(error); return; }
        }
        this.shiftChecked = registerId;
        this.shiftNudge();
      },
      shiftNudge: function () {
        const self = this;
        setTimeout(function () {
          if (self.registerId && self.shiftChecked === self.registerId && !self.shift &&
              !self.dialog && !self.receipt) {
            self.openDialog("shift-open", { value: "", error: "" });
          }
        }, 0);
      },
      shiftLost: function () {
        this.say(this.t.shift_lost);
        this.dialog = null;
        this.loadShift();
      },
      submitShiftOpen: async function () {
        const amount = u.scaled(String(this.form.value).trim() || "0", 2);
        if (amount === null) { this.form.error = this.t.bad_amount; return; }
        this.shiftBusy = true;
        try {
          const shift = await window.shouyin.api("POST", "/api/v1/shifts", {
            client_uuid: this.form.uuid || (this.form.uuid = u.newUuid()), store_id: this.store.id,
            register_id: this.registerId, opening_float: amount,
          });
          this.shift = shift;
          this.closeDialog();
          this.say(u.fmt(this.t.shift_opened, { id: shift.id, amount: this.yuan(amount) }), "info");
        } catch (error) {
          // Another window opened one meanwhile: take it.
          if (error.code === "shift.already_open") { this.closeDialog(); this.loadShift(); return; }
          this.form.error = error.status ? error.message : this.t.network;
        } finally {
          this.shiftBusy = false;
        }
      },

      // ---- the menu -------------------------------------------------------------------
      openShiftMenu: function () {
        if (!this.registerId) { this.changeRegister(); return; }
        if (!this.shift) { this.shiftNudge(); return; }
        this.openDialog("shift-menu");
      },
      shiftMenuKey: function (event) {
        const action = MENU_KEYS[event.key];
        if (!action) return;
        event.preventDefault();
        if (action === "openShiftX" || action === "openShiftCount") this[action]();
        else this.openShiftMove(action);
      },
      shiftTime: function (iso) {
        const d = new Date(iso);
        return d.toLocaleString("zh-CN", { hour12: false, month: "2-digit", day: "2-digit",
                                            hour: "2-digit", minute: "2-digit" });
      },
      tenderName: function (method) { return this.t["tender_" + method] || method; },
      fetchShiftReport: async function () {
        return window.shouyin.api("GET", "/api/v1/shifts/" + this.shift.id + "/report");
      },
      openShiftX: async function () {
        this.shiftReport = null;
        this.openDialog("shift-x");
        try {
          this.shiftReport = await this.fetchShiftReport();
        } catch (error) {
          this.closeDialog();
          this.fail(error);
        }
      },
      printShift: async function (which) {
        const shift = which === "close" && this.shiftResult ? this.shiftResult.shift : this.shift;
        if (!shift) return;
        this.shiftBusy = true;
        try {
          const result = await window.shouyin.api("POST", "/api/v1/shifts/" + shift.id + "/print", { which: which });
          this.say(result.printed ? this.t.shift_printed : this.t.shift_no_printer, "info");
        } catch (error) {
          this.fail(error);
        } finally {
          this.shiftBusy = false;
        }
      },

      // ---- cash in, cash out, no-sale -----------------------------------------------------
      openShiftMove: function (kind) {
        this.openDialog("shift-move", { kind: kind, value: "", reason: "", error: "", uuid: u.newUuid() });
      },
      submitShiftMove: async function () {
        const kind = this.form.kind;
        const amount = kind === "no_sale" ? 0 : u.scaled(String(this.form.value).trim(), 2);
        if (amount === null || (kind !== "no_sale" && amount <= 0)) { this.form.error = this.t.bad_amount; return; }
        const reason = String(this.form.reason || "").trim();
        if (!reason) { this.form.error = this.t.shift_reason_needed; return; }
        this.shiftBusy = true;
        try {
          await window.shouyin.api("POST", "/api/v1/shifts/" + this.shift.id + "/cash-moves",
                                   { client_uuid: this.form.uuid, kind: kind, amount: amount, reason: reason });
          this.closeDialog();
          this.say(u.fmt(this.t["shift_move_" + kind], { amount: this.yuan(amount) }), "info");
        } catch (error) {
          if (error.code === "shift.closed") { this.shiftLost(); return; }
          this.form.error = error.status ? error.message : this.t.network;
        } finally {
          this.shiftBusy = false;
        }
      },

      // ---- closing: a blind count, then the result ------------------------------------------
      openShiftCount: async function () {
        let report;
        try {
          report = await this.fetchShiftReport();
        } catch (error) {
          this.fail(error);
          return;
        }
        // Which tenders to count; the amounts expected stay hidden until the shift is closed.
        this.shiftTenders = report.figures.tenders
          .filter(function (t) { return t.expected !== null; })
          .map(function (t) { return t.method; });
        const counts = {};
        this.shiftTenders.forEach(function (m) { counts[m] = ""; });
        this.openDialog("shift-count", { counts: counts, reason: "", error: "" });
      },
      submitShiftClose: async function () {
        const counted = {};
        for (const m of this.shiftTenders) {
          const fen = u.scaled(String(this.form.counts[m] || "").trim(), 2);
          if (fen === null) { this.form.error = this.t.shift_count_needed; return; }
          counted[m] = fen;
        }
        const note = String(this.form.reason || "").trim() || null;
        this.shiftBusy = true;
        try {
          const result = await window.shouyin.api("POST", "/api/v1/shifts/" + this.shift.id + "/close",
                                                  { counted: counted, note: note });
          this.showShiftResult(result);
        } catch (error) {
          // Closed already (a retry after the network dropped, or another window): show the
          // frozen report of the closed shift.
          if (error.code === "shift.closed") { this.showClosedShift(); return; }
          this.form.error = error.status ? error.message : this.t.network;
        } finally {
          this.shiftBusy = false;
        }
      },
      showShiftResult: function (result) {
        this.shiftResult = result;
        this.shift = null;
        this.openDialog("shift-result");
        this.say(u.fmt(this.t.shift_closed, { id: result.shift.id }), "info");
      },
      showClosedShift: async function () {
        try {
          const report = await this.fetchShiftReport();
          if (report.kind === "close") { this.showShiftResult(report); return; }
        } catch (error) {
          // Not readable (another cashier's shift): fall through.
        }
        this.shiftLost();
      },
      get shiftResultRows() {
        if (!this.shiftResult) return [];
        return this.shiftResult.figures.tenders.filter(function (t) { return t.expected !== null; });
      },
      varianceText: function (fen) {
        return (fen > 0 ? "+" : "") + this.yuan(fen);
      },
    };
  };
})();
