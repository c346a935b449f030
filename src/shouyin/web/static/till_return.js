// The till's returns (退货), ⇧F4: a screen of its own (the dialog "return" of _return.html).
// With the receipt: scan its barcode (the order number) or pick the sale from the store's
// recent ones, choose the lines and quantities, the reason and where the money goes back.
// Without a receipt: scan the items, at most their current price back, cash only.
// The server decides everything that counts (what is returnable, the refund, the tenders):
// the sums here are a preview. When the server asks for a manager's approval
// (403 return.approval_required), the manager types their name and password on the spot and
// the same request goes again with the SAME client UUID, so a retry never returns twice.
// A mixin merged into the till component (till.js), so `this` is the till.
(function () {
  "use strict";

  // The preview's order of a refund "to the original tenders": exactly the server's
  // (refund_rules.TENDER_ORDER, used by split_tenders: stored value, WeChat, Alipay, card, the
  // rest in cash). The returnable answer gives each tender's room but not this order; the
  // server splits the refund itself when the return is made, and the result shows its split.
  const TENDER_ORDER = ["stored_value", "wechat", "alipay", "card"];

  // Focus what the selector finds once it is shown. The document is searched, not the till's
  // $root: a method called after an awaited request may not reach Alpine's magics. A frame
  // later, after Alpine has swapped the step's parts (removing the focused field of the step
  // before would leave the focus on the page body).
  function returnFocusOn(selector, select, tries) {
    const left = tries === undefined ? 20 : tries;
    requestAnimationFrame(function () {
      const el = document.querySelector(selector);
      if (el && el.offsetParent !== null) {
        el.focus();
        if (select && el.select) el.select();
      } else if (left > 0) {
        returnFocusOn(selector, select, left - 1);
      }
    });
  }

  function emptyReturn() {
    return {
      mode: "receipt", step: "find", busy: false, error: "",
      number: "", day: "", amount: "", tail: "", orders: [], index: 0,
      view: null, items: [], code: "", nextKey: 1,
      reason: "", refundTo: "original", reasonIndex: -1,
      uuid: null, sentKey: "", result: null, printNote: "",
      approving: false, approvalWhy: "", approvalError: "", username: "", password: "",
    };
  }

  window.shouyinTillReturn = function () {
    const u = window.shouyinTillUtil;
    return {
      rt: emptyReturn(),

      returnInit: function () {
        const self = this;
        // The overlay may be closed from outside (a click beside the panel): start afresh.
        this.$watch("dialog", function (now) {
          if (now !== "return" && self.rt.step !== "find") self.rt = emptyReturn();
        });
        // A click on the page outside the panel's fields leaves the focus on the body: the
        // return screen still takes its keys (Esc is the till's: it closes the screen).
        window.addEventListener("keydown", function (event) {
          if (self.dialog === "return" && event.target === document.body && event.key !== "Escape") {
            self.returnKey(event);
          }
        });
      },
      // ⇧F4 from the till.
      returnAction: function (event) {
        return event.key === "F4" && event.shiftKey ? this.openReturn : null;
      },
      openReturn: function () {
        if (this.receipt) this.newSale();
        if (!this.registerId) { this.say(this.t.rt_need_register); this.changeRegister(); return; }
        this.rt = emptyReturn();
        this.openDialog("return");
        this.returnFocus();
        this.returnSearch();
      },

      // ---- focus and keys ---------------------------------------------------------------
      returnFocus: function () {
        const panel = '[data-dialog="return"]';
        if (this.rt.approving) { returnFocusOn(panel + " [data-rt-approval]", true); return; }
        // Steps with a field start in it; the others leave the keys to the panel itself.
        const step = this.rt.step;
        const withField = ["find", "items", "reason"].indexOf(step) >= 0;
        returnFocusOn(withField ? panel + ' [data-rt-focus="' + step + '"]' : panel, false);
      },
      returnKey: function (event) {
        const key = event.key;
        const rt = this.rt;
        const field = ["INPUT", "TEXTAREA", "SELECT"].indexOf(event.target.tagName) >= 0;
        const inForm = !!event.target.closest("form");
        if (rt.approving) {
          if (key === "Escape") { this.returnStop(event); this.returnCloseApproval(); }
          return;
        }
        if (key === "Escape") { this.returnStop(event); this.returnBack(); return; }
        if (rt.busy) return;
        const typing = field && event.target.value !== "";
        const act = this.returnStepKeys(rt.step, key, { field: field, inForm: inForm, typing: typing,
                                                        target: event.target });
        if (act) { this.returnStop(event); act.call(this); }
      },
      returnStop: function (event) {
        event.preventDefault();
        event.stopPropagation();
      },
      // The action of a key at a step, or null to let the key do what it does in a field.
      returnStepKeys: function (step, key, at) {
        const move = { ArrowUp: -1, ArrowDown: 1 }[key];
        if (step === "find") {
          if (move) return function () { this.returnMove(move, this.rt.orders.length); };
          if (key === "F2") return this.returnWithoutReceipt;
          if (key === "F3") return this.returnSearch;
          if (key === "Enter" && !at.inForm) return this.returnNext;
          return null;
        }
        if (step === "lines") {
          const lines = this.rt.view ? this.rt.view.lines.length : 0;
          if (move) return function () { this.returnMove(move, lines); };
          if (key === "+" ) return function () { this.returnBump(1); };
          if (key === "-") return function () { this.returnBump(-1); };
          if (key === "0") return function () { this.returnTakeAll(false); };
          if (key === "*") return function () { this.returnTakeAll(true); };
          if (key === "Enter") return this.returnNext;
          return null;
        }
        if (step === "items") {
          const code = at.target.getAttribute && at.target.getAttribute("data-rt-focus") === "items";
          if (move) return function () { this.returnMove(move, this.rt.items.length); };
          if (key === "F6") return this.returnEditUnit;
          if (key === "Enter" && !at.inForm) return this.returnFocus;
          if ((code && !at.typing) || !at.field) {
            if (key === "+") return function () { this.returnBumpItem(1); };
            if (key === "-") return function () { this.returnBumpItem(-1); };
            if (key === "Delete") return this.returnRemoveItem;
          }
          return null;
        }
        if (step === "reason") {
          if (key === "F9" && this.rt.mode === "receipt") return function () { this.rt.refundTo = "cash"; };
          if (key === "F10" && this.rt.mode === "receipt") return function () { this.rt.refundTo = "original"; };
          if (key === "Enter" && !at.inForm) return this.returnNext;
          return null;
        }
        if (step === "done" && key === "Enter") return this.returnNext;
        return null;
      },
      returnMove: function (delta, count) {
        if (!count) return;
        this.rt.index = Math.min(count - 1, Math.max(0, this.rt.index + delta));
        requestAnimationFrame(function () {
          const row = document.querySelector('[data-dialog="return"] tr.on');
          if (row) row.scrollIntoView({ block: "nearest" });
        });
      },

      // ---- moving between steps ---------------------------------------------------------
      returnGo: function (step) {
        this.rt.step = step;
        this.rt.error = "";
        this.returnFocus();
      },
      returnBack: function () {
        const rt = this.rt;
        if (rt.busy) return;
        if (rt.step === "reason") this.returnGo(rt.mode === "none" ? "items" : "lines");
        else if (rt.step === "lines" || rt.step === "items") {
          rt.view = null; rt.items = []; rt.mode = "receipt"; rt.index = 0;
          this.returnGo("find");
        } else this.returnClose();
      },
      returnClose: function () {
        const result = this.rt.result;
        this.rt = emptyReturn();
        this.closeDialog();
        if (result) this.say(u.fmt(this.t.rt_done, { number: result.number, amount: this.yuan(result.refund) }), "info");
      },
      returnNext: function () {
        const rt = this.rt;
        if (rt.step === "find") this.returnFind();
        else if (rt.step === "lines") {
          if (!this.returnRefundLines().length) { rt.error = this.t.rt_pick_lines; return; }
          this.returnGo("reason");
        } else if (rt.step === "items") {
          if (!rt.items.length) { rt.error = this.t.rt_no_items; return; }
          if (this.returnItemLines() === null) return;
          this.returnGo("reason");
        } else if (rt.step === "reason") this.returnSubmit(null);
        else if (rt.step === "done") this.returnClose();
      },

      // ---- finding the receipt ------------------------------------------------------------
      returnFind: function () {
        const number = this.rt.number.trim();
        if (number) { this.returnOpenOrder(number); return; }
        const picked = this.rt.orders[this.rt.index];
        if (picked) this.returnOpenOrder(picked.number);
        else this.rt.error = this.t.rt_type_number;
      },
      returnSearch: async function () {
        const rt = this.rt;
        const params = new URLSearchParams({ store_id: String(this.store.id) });
        if (rt.day) params.set("day", rt.day);
        if (String(rt.amount).trim()) {
          const fen = u.scaled(rt.amount, 2);
          if (fen === null) { rt.error = this.t.rt_bad_amount; return; }
          params.set("total", String(fen));
        }
        if (String(rt.tail).trim()) {
          if (!/^\d{4}$/.test(rt.tail.trim())) { rt.error = this.t.rt_bad_tail; return; }
          params.set("mobile_tail", rt.tail.trim());
        }
        rt.error = "";
        try {
          rt.orders = await window.shouyin.api("GET", "/api/v1/returns/orders?" + params.toString());
          rt.index = 0;
        } catch (error) {
          rt.error = this.returnErrorText(error);
        }
      },
      returnOpenOrder: async function (number) {
        const rt = this.rt;
        if (rt.busy) return;
        rt.busy = true;
        rt.error = "";
        const params = new URLSearchParams({ number: number, store_id: String(this.store.id) });
        try {
          const view = await window.shouyin.api("GET", "/api/v1/returns/lookup?" + params.toString());
          // Everything still returnable is taken back by default.
          view.lines.forEach(function (line) { line.take = line.returnable; });
          rt.view = view;
          rt.number = "";
          rt.index = Math.max(0, view.lines.findIndex(function (l) { return l.returnable > 0; }));
          if (!view.lines.some(function (l) { return l.returnable > 0; })) {
            rt.busy = false;
            this.returnGo("lines");
            rt.error = this.t.rt_nothing_left;
            return;
          }
          rt.busy = false;
          this.returnGo("lines");
        } catch (error) {
          rt.busy = false;
          rt.error = this.returnErrorText(error);
        }
      },
      returnTime: function (iso) {
        const at = new Date(iso);
        const time = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
        return at.toDateString() === new Date().toDateString() ? time : at.toLocaleDateString() + " " + time;
      },

      // ---- the lines of the receipt -------------------------------------------------------
      returnQty: function (line, quantity) {
        return line.weighed ? (quantity / 1000).toFixed(3) + " kg" : String(quantity);
      },
      returnBump: function (delta) {
        const line = this.rt.view && this.rt.view.lines[this.rt.index];
        if (!line || !line.returnable) return;
        // Weighed goods come back whole or not at all.
        if (line.weighed) line.take = delta > 0 ? line.returnable : 0;
        else line.take = Math.min(line.returnable, Math.max(0, line.take + delta));
        this.rt.error = "";
      },
      returnTakeAll: function (all) {
        (this.rt.view ? this.rt.view.lines : []).forEach(function (line) {
          line.take = all ? line.returnable : 0;
        });
      },
      // A preview: a partial line gives back its share; the server's figure is the one paid.
      returnLineRefund: function (line) {
        if (!line.take) return 0;
        if (line.take === line.returnable) return line.refund;
        return Math.round(line.refund * line.take / line.returnable);
      },
      returnLineRefundText: function (line) {
        return (line.take === line.returnable ? "" : "≈") + this.yuan(this.returnLineRefund(line));
      },
      returnRefundLines: function () {
        return (this.rt.view ? this.rt.view.lines : []).filter(function (l) { return l.take > 0; })
          .map(function (l) { return { order_line_id: l.order_line_id, quantity: l.take }; });
      },

      // ---- without a receipt ------------------------------------------------------------------
      returnWithoutReceipt: function () {
        const rt = this.rt;
        rt.mode = "none";
        rt.view = null;
        rt.items = [];
        rt.index = 0;
        this.returnGo("items");
      },
      returnScanItem: async function () {
        const rt = this.rt;
        const code = rt.code.trim();
        rt.code = "";
        if (!code) { this.returnNext(); return; }
        rt.error = "";
        try {
          const found = await window.shouyin.api("GET", "/api/v1/products/lookup?code=" + encodeURIComponent(code));
          this.returnAddItem(found.from_scale ? found.product : found, found.from_scale ? found.quantity_grams : null);
        } catch (error) {
          rt.error = error.status === 404 ? u.fmt(this.t.unknown_code, { code: code }) : this.returnErrorText(error);
        }
      },
      returnAddItem: function (product, grams) {
        const rt = this.rt;
        if (!product.active) { rt.error = u.fmt(this.t.inactive, { name: product.name }); return; }
        const i = rt.items.findIndex(function (x) { return x.product.id === product.id; });
        if (i >= 0) {
          const item = rt.items[i];
          if (product.weighed) {
            const before = this.returnItemQuantity(item) || 0;
            item.qty = ((before + (grams || 1000)) / 1000).toFixed(3);
          } else {
            item.qty = String((parseInt(item.qty, 10) || 0) + 1);
          }
          rt.index = i;
          return;
        }
        rt.items.push({ key: rt.nextKey++, product: product, unit: u.yuanPlain(product.price),
                        qty: product.weighed ? ((grams || 1000) / 1000).toFixed(3) : "1" });
        rt.index = rt.items.length - 1;
      },
      // Units, or grams of weighed goods (typed in kg); null when not a quantity.
      returnItemQuantity: function (item) {
        if (item.product.weighed) {
          const grams = u.scaled(String(item.qty).replace(/kg$/i, ""), 3);
          return grams ? grams : null;
        }
        return /^\d{1,6}$/.test(String(item.qty).trim()) && parseInt(item.qty, 10) > 0 ? parseInt(item.qty, 10) : null;
      },
      returnItemRefund: function (item) {
        const quantity = this.returnItemQuantity(item);
        const unit = u.scaled(item.unit, 2);
        if (!quantity || !unit) return 0;
        return item.product.weighed ? Math.round(unit * quantity / 1000) : unit * quantity;
      },
      returnItemRefundText: function (item) {
        return this.yuan(this.returnItemRefund(item));
      },
      returnBumpItem: function (delta) {
        const item = this.rt.items[this.rt.index];
        if (!item) return;
        if (item.product.weighed) { this.returnEditQuantity(); return; }
        const next = (this.returnItemQuantity(item) || 0) + delta;
        if (next >= 1) item.qty = String(next);
      },
      returnRemoveItem: function () {
        this.rt.items.splice(this.rt.index, 1);
        this.rt.index = Math.max(0, Math.min(this.rt.index, this.rt.items.length - 1));
      },
      returnEditUnit: function () {
        if (!this.rt.items[this.rt.index]) return;
        returnFocusOn('[data-dialog="return"] [data-rt-unit="' + this.rt.index + '"]', true);
      },
      returnEditQuantity: function () {
        const rows = document.querySelectorAll('[data-dialog="return"] [data-testid="return-item-qty"]');
        const input = rows[this.rt.index];
        if (input) { input.focus(); input.select(); }
      },
      // The lines to send, or null (and the problem shown) when one is not readable.
      returnItemLines: function () {
        const lines = [];
        for (let i = 0; i < this.rt.items.length; i++) {
          const item = this.rt.items[i];
          const quantity = this.returnItemQuantity(item);
          const unit = u.scaled(item.unit, 2);
          if (!quantity) { this.rt.index = i; this.rt.error = this.t.rt_bad_quantity; return null; }
          if (!unit) { this.rt.index = i; this.rt.error = this.t.rt_bad_amount; return null; }
          lines.push({ product_id: item.product.id, quantity: quantity, unit_refund: unit });
        }
        return lines;
      },

      // ---- the refund preview -----------------------------------------------------------------
      get returnRefund() {
        const rt = this.rt;
        if (rt.mode === "none") {
          const self = this;
          return rt.items.reduce(function (sum, item) { return sum + self.returnItemRefund(item); }, 0);
        }
        const lines = rt.view ? rt.view.lines : [];
        return lines.reduce(function (sum, line) { return sum + this.returnLineRefund(line); }.bind(this), 0);
      },
      get returnSplit() {
        const amount = this.returnRefund;
        const rt = this.rt;
        if (!amount) return [];
        if (rt.mode === "none" || rt.refundTo === "cash" || !rt.view) return [{ method: "cash", amount: amount }];
        const parts = [];
        let left = amount;
        TENDER_ORDER.forEach(function (method) {
          const room = Math.max(0, (rt.view.paid[method] || 0) - (rt.view.refunded_to[method] || 0));
          const take = Math.min(room, left);
          if (take > 0) { parts.push({ method: method, amount: take }); left -= take; }
        });
        if (left > 0) parts.push({ method: "cash", amount: left });
        return parts;
      },
      returnTenderLabel: function (method) {
        return this.t["rt_to_" + method] || method;
      },
      returnQuickReason: function (delta) {
        const reasons = this.t.rt_reasons || [];
        if (!reasons.length) return;
        const rt = this.rt;
        rt.reasonIndex = (rt.reasonIndex + delta + reasons.length) % reasons.length;
        rt.reason = reasons[rt.reasonIndex];
      },

      // ---- sending the return -------------------------------------------------------------------
      returnBody: function () {
        const rt = this.rt;
        const body = { store_id: this.store.id, register_id: this.registerId, reason: rt.reason.trim() };
        if (rt.mode === "none") {
          body.lines = this.returnItemLines();
        } else {
          body.order_id = rt.view.order_id;
          body.lines = this.returnRefundLines();
          body.refund_to = rt.refundTo;
        }
        return body;
      },
      returnSubmit: async function (approval) {
        const rt = this.rt;
        if (rt.busy) return;
        if (!rt.reason.trim()) { rt.error = this.t.rt_reason_needed; this.returnFocus(); return; }
        const body = this.returnBody();
        if (!body.lines || !body.lines.length) return;
        // The same request keeps its UUID (a retry, or the approval added); a changed one is new.
        const key = JSON.stringify(body);
        if (key !== rt.sentKey || !rt.uuid) { rt.uuid = u.newUuid(); rt.sentKey = key; }
        body.client_uuid = rt.uuid;
        if (approval) body.approval = approval;
        const url = rt.mode === "none" ? "/api/v1/returns/without-receipt" : "/api/v1/returns";
        rt.busy = true;
        rt.error = "";
        try {
          rt.result = await window.shouyin.api("POST", url, body);
          rt.approving = false;
          rt.password = "";
          rt.busy = false;
          this.returnGo("done");
          this.returnPrint(rt.result);
        } catch (error) {
          rt.busy = false;
          this.returnRefused(error, approval);
        }
      },
      returnRefused: function (error, approval) {
        const rt = this.rt;
        if (error.code === "return.approval_required" || (approval && error.code === "return.approval_invalid")) {
          const wasOpen = rt.approving;
          rt.approving = true;
          rt.approvalWhy = error.code === "return.approval_required" ? error.message : rt.approvalWhy;
          rt.approvalError = error.code === "return.approval_invalid" ? error.message : "";
          rt.password = "";
          if (!wasOpen || rt.approvalError) returnFocusOn('[data-dialog="return"] [data-rt-approval]', true);
          return;
        }
        rt.approving = false;
        rt.password = "";
        rt.error = this.returnErrorText(error);
      },
      // The return slip (退货单) for the customer's signature; a cash refund opens the drawer.
      // A till without a printer just goes on.
      returnPrint: function (made) {
        const rt = this.rt;
        const t = this.t;
        const url = "/api/v1/registers/" + this.registerId + "/print/return";
        window.shouyin.api("POST", url, { return_id: made.id }).then(function (printed) {
          if (rt.result === made) rt.printNote = printed.drawer_opened ? t.rt_printed_drawer : t.rt_printed;
        }).catch(function (error) {
          if (rt.result === made && error.code !== "printer.none") {
            rt.printNote = error.status ? error.message : t.network;
          }
        });
      },
      returnApprove: function () {
        const rt = this.rt;
        if (!rt.username.trim() || !rt.password) { rt.approvalError = this.t.rt_approval_needed; return; }
        this.returnSubmit({ username: rt.username.trim(), password: rt.password });
      },
      returnCloseApproval: function () {
        this.rt.approving = false;
        this.rt.password = "";
        this.rt.approvalError = "";
        this.returnFocus();
      },
      returnErrorText: function (error) {
        return error && error.status ? error.message : this.t.network;
      },
    };
  };
})();
