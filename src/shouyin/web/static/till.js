// The till (收银台): keyboard-first cart, quotes from the server, cash and card tender.
// Prices are never computed here: every total shown comes from /api/v1/orders/quote or from
// the order the server made. Sums in this file are for display only (change, items count).
(function () {
  "use strict";

  const QUOTE_DELAY_MS = 120;
  const INFO_MS = 5000;
  const FIELD_TAGS = ["INPUT", "TEXTAREA", "SELECT"];
  const MAX_QUANTITY = 99999;
  const MAX_GRAMS = 999999;
  // What a priced line says was taken off it, step by step (all positive fen).
  const OFF_KINDS = ["line_discount", "item_promotion", "tier_discount", "order_promotion",
                     "order_discount", "coupon", "points"];

  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? values[key] : all;
    });
  }

  // "12.5" -> 1250 with places=2; null unless a plain non-negative decimal number.
  function scaled(text, places) {
    const clean = String(text == null ? "" : text).trim().replace(/^[￥¥]/, "");
    const match = new RegExp("^(\\d{1,9})(?:\\.(\\d{0," + places + "}))?$").exec(clean);
    if (!match) return null;
    const fraction = (match[2] || "").padEnd(places, "0");
    return parseInt(match[1], 10) * Math.pow(10, places) + (places ? parseInt(fraction, 10) : 0);
  }

  function yuanPlain(fen) {
    return (fen / 100).toFixed(2);
  }

  function newUuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // crypto.randomUUID needs a secure context; a till on the shop LAN may be plain http.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); });
    return [0, 4, 6, 8, 10].map(function (start, i) {
      return hex.slice(start, [4, 6, 8, 10, 16][i]).join("");
    }).join("-");
  }

  function isField(element) {
    return !!element && FIELD_TAGS.indexOf(element.tagName) >= 0;
  }

  function emptyForm() {
    return { value: "", unit: "kg", kind: "percent", target: "line", cash: "",
             cardAmount: "", reference: "", product: null, index: -1, q: "", counts: {} };
  }

  // Shared with the till's mixins (till_pay.js, till_member.js), read when Alpine starts.
  window.shouyinTillUtil = { fmt: fmt, scaled: scaled, yuanPlain: yuanPlain, newUuid: newUuid };

  // Methods of the mixins that may claim a key press before the till's own keys.
  const KEY_HOOKS = ["loyaltyAction", "heldAction", "shiftAction", "payCodeAction", "printAction",
    "returnAction", "displayAction", "complaintAction"];

  function till(config) {
    const t = config.texts;
    return {
      store: config.store,
      registers: config.registers,
      canDiscount: config.can_discount,
      canOverride: config.can_override,
      t: t,
      registerId: null,
      lines: [],
      orderDiscount: null,
      selected: -1,
      code: "",
      quote: null,
      quotedKey: "",
      quoteSeq: 0,
      quoteTimer: null,
      quoting: false,
      good: { lines: [], orderDiscount: null },
      message: "",
      messageKind: "error",
      messageTimer: null,
      dialog: null,
      form: emptyForm(),
      results: [],
      resultIndex: 0,
      searchState: "",
      searchTimer: null,
      searchSeq: 0,
      cards: [],
      unanswered: [],  // order requests whose answer was lost (till_pay.js postOrder)
      clientUuid: newUuid(),
      busy: false,
      receipt: null,
      nextKey: 1,
      scanChain: Promise.resolve(),
      yuan: function (fen) { return window.shouyin.yuan(fen || 0); },
      yuanPlain: yuanPlain,

      init: function () {
        this.chooseStoredRegister();
        // The cart kept over a reload, and the carts parked on this till (till_held.js).
        if (this.heldInit) this.heldInit();
        // The other parts start here; they follow the cart with Alpine's $watch.
        const self = this;
        ["shiftInit", "payCodeInit", "printInit", "returnInit", "displayInit", "complaintInit"].forEach(function (hook) {
          if (self[hook]) self[hook]();
        });
        // Clicks on anything that is not a field send the focus back to the barcode field.
        document.addEventListener("click", function () { self.refocusSoon(); });
        window.addEventListener("focus", function () { self.refocusSoon(); });
        this.$nextTick(function () { self.focusScan(); });
      },

      // ---- focus ----------------------------------------------------------------------
      focusScan: function () {
        if (this.dialog || this.receipt || !this.$refs.scan) return;
        if (document.activeElement !== this.$refs.scan) this.$refs.scan.focus();
      },
      refocusSoon: function () {
        const self = this;
        setTimeout(function () {
          if (!isField(document.activeElement)) self.focusScan();
        }, 0);
      },
      onScanBlur: function () {
        this.refocusSoon();
      },

      // ---- registers ------------------------------------------------------------------
      registerKey: function () { return "shouyin.till.register." + this.store.id; },
      chooseStoredRegister: function () {
        if (this.registers.length === 1) { this.registerId = this.registers[0].id; return; }
        if (!this.registers.length) return;
        const stored = parseInt(localStorage.getItem(this.registerKey()) || "", 10);
        if (this.registers.some(function (r) { return r.id === stored; })) {
          this.registerId = stored;
        } else {
          this.openDialog("register");
        }
      },
      get registerName() {
        const id = this.registerId;
        const found = this.registers.find(function (r) { return r.id === id; });
        return found ? found.name : this.t.register_unset;
      },
      pickRegister: function (id) {
        const before = this.registerId;
        this.registerId = id;
        localStorage.setItem(this.registerKey(), String(id));
        this.closeDialog();
        if (this.registerChanged) this.registerChanged(before);
      },
      changeRegister: function () {
        if (this.registers.length > 1) this.openDialog("register");
      },

      // ---- messages -------------------------------------------------------------------
      say: function (text, kind) {
        clearTimeout(this.messageTimer);
        this.message = text;
        this.messageKind = kind || "error";
        if (this.messageKind === "info") {
          const self = this;
          this.messageTimer = setTimeout(function () { self.message = ""; }, INFO_MS);
        }
      },
      clearMessage: function () { this.message = ""; },
      fail: function (error) {
        this.say(error && error.status ? error.message : t.network, "error");
      },

      // ---- the cart -------------------------------------------------------------------
      cartBody: function () {
        const body = {
          store_id: this.store.id,
          lines: this.lines.map(function (line) {
            return { product_id: line.product.id, quantity: line.quantity,
                     price_override: line.price_override, discount: line.discount };
          }),
          order_discount: this.orderDiscount,
        };
        // The member, coupons and points (till_loyalty.js) are priced by the server too.
        return this.loyaltyBody ? Object.assign(body, this.loyaltyBody()) : body;
      },
      get fresh() {
        return !this.lines.length || (this.quote !== null && this.quotedKey === JSON.stringify(this.cartBody()));
      },
      get total() { return this.lines.length && this.quote ? this.quote.total : 0; },
      get paidByCard() {
        return this.cards.reduce(function (sum, c) { return sum + c.amount; }, 0);
      },
      get due() { return Math.max(0, this.total - this.paidByCard); },
      get itemCount() {
        return this.lines.reduce(function (n, l) { return n + (l.product.weighed ? 1 : l.quantity); }, 0);
      },
      get shownSteps() {
        if (!this.lines.length || !this.quote) return [{ kind: "subtotal", amount: 0 }];
        return this.quote.steps.filter(function (s) { return s.kind !== "total"; });
      },
      stepLabel: function (kind) { return t["step_" + kind] || kind; },
      rowQuote: function (i) {
        const q = this.quote && this.quote.lines[i];
        const line = this.lines[i];
        if (!q || !line || q.product_id !== line.product.id || q.quantity !== line.quantity) return null;
        return q;
      },
      qtyText: function (line) {
        return line.product.weighed ? (line.quantity / 1000).toFixed(3) + " kg" : String(line.quantity);
      },
      priceText: function (line) {
        const price = line.price_override === null ? line.product.price : line.price_override;
        return this.yuan(price) + (line.product.weighed ? "/kg" : "");
      },
      discountTag: function (discount) {
        if (!discount) return "";
        return discount.kind === "percent"
          ? fmt(t.off_percent, { value: discount.value / 100 })
          : fmt(t.off_amount, { value: this.yuan(discount.value) });
      },
      discText: function (i) {
        const q = this.rowQuote(i);
        const off = q ? OFF_KINDS.reduce(function (sum, kind) { return sum + (q[kind] || 0); }, 0) : 0;
        return off ? this.yuan(-off) : "";
      },
      netText: function (i) {
        const q = this.rowQuote(i);
        // Rounding (抹零) is shown once, on the total, not spread over the lines.
        return q ? this.yuan(q.net + q.rounding) : "…";
      },
      select: function (i) {
        this.selected = i;
        this.scrollToSelected();
      },
      move: function (delta) {
        if (!this.lines.length) return;
        const next = this.selected < 0 ? (delta > 0 ? 0 : this.lines.length - 1) : this.selected + delta;
        this.select(Math.min(this.lines.length - 1, Math.max(0, next)));
      },
      scrollToSelected: function () {
        const self = this;
        this.$nextTick(function () {
          const row = self.$root.querySelector('tr[data-line="' + self.selected + '"]');
          if (row) row.scrollIntoView({ block: "nearest" });
        });
      },
      changed: function () {
        this.scrollToSelected();
        this.scheduleQuote();
      },
      currentLine: function () {
        if (this.selected < 0 || this.selected >= this.lines.length) {
          this.say(this.lines.length ? t.no_line : t.empty_cart);
          return null;
        }
        return this.lines[this.selected];
      },

      // ---- quotes ---------------------------------------------------------------------
      scheduleQuote: function () {
        clearTimeout(this.quoteTimer);
        const self = this;
        this.quoteTimer = setTimeout(function () { self.runQuote(); }, QUOTE_DELAY_MS);
      },
      snapshot: function () {
        return JSON.parse(JSON.stringify({ lines: this.lines, orderDiscount: this.orderDiscount }));
      },
      runQuote: async function () {
        clearTimeout(this.quoteTimer);
        const seq = ++this.quoteSeq;
        if (!this.lines.length) {
          this.quote = null;
          this.quotedKey = "";
          this.good = this.snapshot();
          if (this.afterQuote) this.afterQuote();
          return;
        }
        const body = this.cartBody();
        this.quoting = true;
        try {
          const quote = await window.shouyin.api("POST", "/api/v1/orders/quote", body);
          if (seq !== this.quoteSeq) return;
          this.quote = quote;
          this.quotedKey = JSON.stringify(body);
          this.good = this.snapshot();
          if (this.afterQuote) this.afterQuote();
        } catch (error) {
          if (seq !== this.quoteSeq) return;
          this.fail(error);
          // The server refused the change (permission, bad discount, product gone): undo it,
          // so the cart always matches the last totals the server agreed to. Coupons or points
          // the change made impossible are dropped instead (till_loyalty.js).
          if (error.status && !(this.dropRefusedOffers && this.dropRefusedOffers(error))) this.restoreGood();
        } finally {
          if (seq === this.quoteSeq) this.quoting = false;
        }
      },
      restoreGood: function () {
        const good = JSON.parse(JSON.stringify(this.good));
        this.lines = good.lines;
        this.orderDiscount = good.orderDiscount;
        this.selected = Math.min(this.selected, this.lines.length - 1);
        if (!this.lines.length) { this.quote = null; this.quotedKey = ""; }
      },
      ensureQuoted: async function () {
        if (!this.lines.length) { this.say(t.empty_cart); return false; }
        if (!this.fresh || this.quoting) await this.runQuote();
        if (!this.fresh) { if (!this.message) this.say(t.not_ready); return false; }
        return true;
      },

      // ---- scanning and adding ----------------------------------------------------------
      scan: function () {
        const code = this.code.trim();
        this.code = "";
        if (!code) return;
        const self = this;
        // Scanners type fast: look codes up one after another, in the order scanned.
        this.scanChain = this.scanChain.then(function () { return self.lookup(code); });
      },
      lookup: async function (code) {
        // A coupon code (CP + 10) is never a product (see till_loyalty.js).
        if (this.scanCoupon && (await this.scanCoupon(code))) return;
        // A customer's payment code (16-24 digits) scanned while the cart has lines pays it.
        if (this.scanPayCode && this.scanPayCode(code)) return;
        let product;
        try {
          product = await window.shouyin.api("GET", "/api/v1/products/lookup?code=" + encodeURIComponent(code));
        } catch (error) {
          if (error.code === "catalog.code_unknown" || error.status === 404) {
            // Not a product: it may be a member card (see till_member.js).
            if (this.attachMemberCard && (await this.attachMemberCard(code))) return;
            this.say(fmt(t.unknown_code, { code: code }));
          } else {
            this.fail(error);
          }
          return;
        }
        if (product.from_scale) { this.addScaled(product); return; }
        this.addProduct(product);
      },
      // A scale label is one weighed package: a line of its own, with the label's grams.
      addScaled: function (scan) {
        this.clearMessage();
        this.lines.push({ key: this.nextKey++, product: scan.product, quantity: scan.quantity_grams,
                          price_override: null, discount: null });
        this.selected = this.lines.length - 1;
        this.changed();
      },
      addProduct: function (product) {
        if (!product.active) { this.say(fmt(t.inactive, { name: product.name })); return; }
        this.clearMessage();
        if (product.weighed) {
          this.openDialog("weight", { product: product, index: -1 });
          return;
        }
        const i = this.lines.findIndex(function (l) { return l.product.id === product.id; });
        if (i >= 0) {
          this.lines[i].quantity += 1;
          this.selected = i;
        } else {
          this.lines.push({ key: this.nextKey++, product: product, quantity: 1,
                            price_override: null, discount: null });
          this.selected = this.lines.length - 1;
        }
        this.changed();
      },
      bump: function (delta) {
        const line = this.currentLine();
        if (!line) return;
        if (line.product.weighed) { this.openQuantity(); return; }
        const next = line.quantity + delta;
        if (next < 1 || next > MAX_QUANTITY) return;
        line.quantity = next;
        this.clearMessage();
        this.changed();
      },
      deleteLine: function () {
        const line = this.currentLine();
        if (!line) return;
        this.reportVoid([this.selected], false);
        this.lines.splice(this.selected, 1);
        this.selected = Math.min(this.selected, this.lines.length - 1);
        this.clearMessage();
        this.changed();
      },
      reportVoid: function (indexes, wholeCart) {
        const self = this;
        const lines = indexes.map(function (i) {
          const line = self.lines[i];
          const q = self.rowQuote(i);
          return { product_id: line.product.id, name: line.product.name.slice(0, 120),
                   quantity: line.quantity, amount: q ? Math.max(0, q.net) : 0 };
        });
        if (!lines.length) return;
        const body = { store_id: this.store.id, register_id: this.registerId,
                       whole_cart: wholeCart, lines: lines };
        // The audit trail of voids must not hold up the cashier.
        window.shouyin.api("POST", "/api/v1/orders/voids", body).catch(function (error) {
          console.warn("void not recorded", error);
        });
      },

      // ---- dialogs --------------------------------------------------------------------
      openDialog: function (kind, values) {
        this.form = Object.assign(emptyForm(), values || {});
        this.dialog = kind;
        this.clearMessage();
        this.focusWhenShown('[data-dialog="' + kind + '"] [data-focus]', true);
      },
      // x-show reveals elements a timer later; focus once the element can take it.
      focusWhenShown: function (selector, select, tries) {
        const self = this;
        const left = tries === undefined ? 20 : tries;
        requestAnimationFrame(function () {
          const el = self.$root.querySelector(selector);
          if (el && el.offsetParent !== null) {
            el.focus();
            if (select && el.select) el.select();
          } else if (left > 0) {
            self.focusWhenShown(selector, select, left - 1);
          }
        });
      },
      closeDialog: function () {
        this.dialog = null;
        clearTimeout(this.searchTimer);
        // At once, not on the next tick: a key pressed right after Esc must reach the till,
        // not the dialog field that is about to be hidden.
        this.focusScan();
      },
      openQuantity: function () {
        const line = this.currentLine();
        if (!line) return;
        if (line.product.weighed) {
          this.openDialog("weight", { product: line.product, index: this.selected,
                                      value: (line.quantity / 1000).toFixed(3) });
        } else {
          this.openDialog("quantity", { value: String(line.quantity), index: this.selected });
        }
      },
      submitQuantity: function () {
        const value = String(this.form.value).trim();
        const quantity = /^\d+$/.test(value) ? parseInt(value, 10) : 0;
        if (quantity < 1 || quantity > MAX_QUANTITY) { this.say(t.bad_quantity); return; }
        this.lines[this.form.index].quantity = quantity;
        this.clearMessage();
        this.closeDialog();
        this.changed();
      },
      // "0.532", "0.532kg" or "532g"; a bare number is in the unit chosen beside the field.
      get grams() {
        const text = String(this.form.value).trim().toLowerCase().replace(/\s+/g, "");
        const unit = /kg$/.test(text) ? "kg" : /g$/.test(text) ? "g" : this.form.unit;
        const number = text.replace(/k?g$/, "");
        return unit === "kg" ? scaled(number, 3) : scaled(number, 0);
      },
      get weightPreview() {
        const grams = this.grams;
        return grams ? "= " + (grams / 1000).toFixed(3) + " kg" : "";
      },
      submitWeight: function () {
        const grams = this.grams;
        if (!grams || grams > MAX_GRAMS) { this.say(t.bad_weight); return; }
        if (this.form.index >= 0) {
          this.lines[this.form.index].quantity = grams;
          this.selected = this.form.index;
        } else {
          this.lines.push({ key: this.nextKey++, product: this.form.product, quantity: grams,
                            price_override: null, discount: null });
          this.selected = this.lines.length - 1;
        }
        this.clearMessage();
        this.closeDialog();
        this.changed();
      },
      openDiscount: function (target) {
        if (!this.canDiscount) { this.say(t.no_discount_right); return; }
        let current = this.orderDiscount;
        if (target === "line") {
          const line = this.currentLine();
          if (!line) return;
          current = line.discount;
        } else if (!this.lines.length) {
          this.say(t.empty_cart);
          return;
        }
        const values = { target: target, index: this.selected, kind: "percent", value: "" };
        if (current) {
          values.kind = current.kind;
          values.value = current.kind === "percent" ? String(current.value / 100) : yuanPlain(current.value);
        }
        this.openDialog("discount", values);
      },
      submitDiscount: function () {
        const text = String(this.form.value).trim();
        let discount = null;
        if (text !== "") {
          const value = scaled(text, 2);
          if (value === null) { this.say(this.form.kind === "percent" ? t.bad_percent : t.bad_amount); return; }
          if (this.form.kind === "percent" && value > 10000) { this.say(t.bad_percent); return; }
          discount = value ? { kind: this.form.kind, value: value } : null;
        }
        if (this.form.target === "line") this.lines[this.form.index].discount = discount;
        else this.orderDiscount = discount;
        this.clearMessage();
        this.closeDialog();
        this.changed();
      },
      openPrice: function () {
        if (!this.canOverride) { this.say(t.no_override_right); return; }
        const line = this.currentLine();
        if (!line) return;
        const price = line.price_override === null ? line.product.price : line.price_override;
        this.openDialog("price", { index: this.selected, value: yuanPlain(price), product: line.product });
      },
      submitPrice: function () {
        const text = String(this.form.value).trim();
        const line = this.lines[this.form.index];
        let price = null;
        if (text !== "") {
          price = scaled(text, 2);
          if (price === null) { this.say(t.bad_amount); return; }
        }
        line.price_override = price === line.product.price ? null : price;
        this.clearMessage();
        this.closeDialog();
        this.changed();
      },
      openCancel: function () {
        if (!this.lines.length) { this.clearMessage(); return; }
        this.openDialog("cancel");
      },
      confirmCancel: function () {
        this.reportVoid(this.lines.map(function (_l, i) { return i; }), true);
        this.closeDialog();
        this.newSale();
      },

      // ---- the keyboard ---------------------------------------------------------------
      onKey: function (event) {
        const key = event.key;
        if (this.receipt) {
          if (key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
            // The next customer's first scan starts the new sale; its characters land in
            // the barcode field, which takes the focus before the key is typed.
            this.newSale();
            this.$refs.scan.focus();
            return;
          }
          if (key !== "Enter" && key !== "Escape") return;
          event.preventDefault();
          // A held-down Enter must not sweep the receipt away unseen.
          if (!event.repeat) this.newSale();
          return;
        }
        if (this.dialog) {
          if (key === "Escape" && this.dialog !== "register") { event.preventDefault(); this.closeDialog(); }
          else if (/^F([1-9]|10)$/.test(key)) event.preventDefault();
          return;
        }
        const inScan = event.target === this.$refs.scan;
        const inClosedDialog = !!event.target.closest && !!event.target.closest("[data-dialog]");
        if (isField(event.target) && !inScan && !inClosedDialog) return;
        // While a code is being typed, these keys edit the code, not the cart.
        if ((key === "+" || key === "-" || key === "Delete") && this.code !== "") return;
        const actions = {
          F2: this.openQuantity, F3: function () { this.openDiscount("line"); },
          F4: function () { this.openDiscount("order"); }, F5: this.openMember, F6: this.openPrice,
          F8: this.openSearch, F9: this.payCash, F10: this.payCard, Delete: this.deleteLine,
          ArrowUp: function () { this.move(-1); }, ArrowDown: function () { this.move(1); },
          "+": function () { this.bump(1); }, "-": function () { this.bump(-1); },
          Escape: function () {
            if (this.code) this.code = "";
            else if (!this.lines.length && this.member) this.detachMember();
            else this.openCancel();
          },
        };
        // Each mixin may claim a key first (till_loyalty.js, till_held.js, till_shift.js, ...).
        const self0 = this;
        const claimed = KEY_HOOKS.reduce(function (found, hook) {
          return found || (self0[hook] ? self0[hook](event) : null);
        }, null);
        const action = claimed || actions[key];
        if (/^F([1-9]|1[0-2])$/.test(key) && key !== "F11" && key !== "F12") event.preventDefault();
        if (!action) return;
        event.preventDefault();
        // Keys act on the cart as the cashier sees it: after the scans typed before them.
        const self = this;
        this.scanChain.then(function () {
          if (!self.dialog && !self.receipt) action.call(self);
        });
      },
    };
  }

  document.addEventListener("alpine:init", function () {
    window.Alpine.data("till", function () {
      const component = till(window.TILL);
      // Mixins (till_member.js, till_pay.js, till_loyalty.js, till_held.js) are merged with their
      // getters intact.
      [window.shouyinTillMember, window.shouyinTillPay, window.shouyinTillLoyalty,
       window.shouyinTillHeld, window.shouyinTillShift, window.shouyinTillPayCode,
       window.shouyinTillPrint, window.shouyinTillReturn, window.shouyinTillDisplay,
       window.shouyinTillComplaint,
      ].forEach(function (mixin) {
        if (mixin) Object.defineProperties(component, Object.getOwnPropertyDescriptors(mixin()));
      });
      return component;
    });
  });
})();
