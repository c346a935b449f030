// The till's loyalty side (会员权益): the member's tier, points and stored value; what the
// member can use on this cart (/api/v1/orders/options) and the recommended combination;
// coupons (scanned or picked) and points applied to the quote; stored value as a tender;
// recharges. A mixin merged into the till component (till.js), so `this` is the till.
// Nothing is applied by itself: a recommendation waits for the cashier's key or tap, and
// every value comes from the server (a coupon or points are tried on a quote before they
// are kept, so the cart never holds what the server refuses).
(function () {
  "use strict";

  const OFFERS_DELAY_MS = 300;
  const COUPON_PATTERN = /^CP[0-9A-Z]{10}$/;
  const MAX_COUPONS = 5;

  window.shouyinTillLoyalty = function () {
    const u = window.shouyinTillUtil;
    return {
      // {tier_name, discount_bp, points, sv_principal, sv_bonus, sv_balance} of the member.
      loyalty: null,
      // The last /orders/options answer, for the cart whose key is offersKey.
      offers: null,
      offersKey: "",
      offersSeq: 0,
      offersTimer: null,
      couponCodes: [],
      couponNames: {},
      points: 0,
      fenPerPoint: 0,
      loyaltyBusy: false,

      // ---- what the quote and the order carry -------------------------------------------
      loyaltyBody: function () {
        return { member_id: this.member ? this.member.id : null,
                 coupon_codes: this.couponCodes.slice(), points: this.member ? this.points : 0 };
      },
      offersBody: function () {
        return Object.assign(this.cartBody(), { coupon_codes: [], points: 0 });
      },
      resetLoyalty: function () {
        clearTimeout(this.offersTimer);
        this.offersSeq++;
        this.loyalty = null;
        this.offers = null;
        this.offersKey = "";
        this.couponCodes = [];
        this.couponNames = {};
        this.points = 0;
      },
      // Called by till_member.js when a member is attached or taken off the sale.
      memberChanged: function () {
        const hadOffers = this.couponCodes.length || this.points;
        this.resetLoyalty();
        if (this.member) this.loadLoyalty(this.member.id);
        if (hadOffers) this.say(this.t.offers_cleared, "info");
        this.scheduleQuote();
      },
      // Called by till.js after each quote the server agreed to.
      afterQuote: function () {
        if (!this.lines.length) { this.couponCodes = []; this.points = 0; }
        if (!this.member || !this.lines.length) { this.offers = null; this.offersKey = ""; return; }
        if (JSON.stringify(this.offersBody()) === this.offersKey) return;
        clearTimeout(this.offersTimer);
        const self = this;
        this.offersTimer = setTimeout(function () { self.loadOffers(); }, OFFERS_DELAY_MS);
      },
      // Called by till.js when a quote is refused: a cart change (a deleted line, say) can
      // push the chosen points over the cap or a coupon below its minimum. Those are dropped,
      // never the cashier's cart change. True when something was dropped.
      dropRefusedOffers: function (error) {
        const code = String(error && error.code || "");
        if (code.indexOf("points.") === 0 && this.points) {
          this.points = 0;
        } else if (code.indexOf("coupon.") === 0 && this.couponCodes.length) {
          this.couponCodes = [];
        } else {
          return false;
        }
        this.say(u.fmt(this.t.offers_dropped, { reason: error.message }));
        this.scheduleQuote();
        return true;
      },

      // ---- the member's balances ----------------------------------------------------------
      loadLoyalty: async function (memberId) {
        try {
          const account = await window.shouyin.api("GET", "/api/v1/members/" + memberId + "/loyalty");
          if (!this.member || this.member.id !== memberId) return;
          const sv = account.stored_value;
          this.loyalty = {
            tier_name: account.tier ? account.tier.name : "",
            discount_bp: account.tier ? account.tier.discount_bp : 0,
            points: account.points, sv_principal: sv.principal, sv_bonus: sv.bonus,
            sv_balance: sv.total,
          };
        } catch (error) {
          if (this.member && this.member.id === memberId) this.loyalty = null;
        }
      },
      loadOffers: async function () {
        if (!this.member || !this.lines.length) return;
        const body = this.offersBody();
        const key = JSON.stringify(body);
        const seq = ++this.offersSeq;
        try {
          const found = await window.shouyin.api("POST", "/api/v1/orders/options", body);
          if (seq !== this.offersSeq) return;
          this.offers = found;
          this.offersKey = key;
          if (found.points > 0) this.fenPerPoint = found.points_value / found.points;
          // The options are fresher than the balances read when the member was attached.
          this.loyalty = {
            tier_name: found.tier_name || "", discount_bp: found.tier_discount_bp,
            points: found.points, sv_principal: found.sv_principal, sv_bonus: found.sv_bonus,
            sv_balance: found.sv_balance,
          };
          found.coupons.forEach(function (c) { this.couponNames[c.code] = c.name; }, this);
        } catch (error) {
          if (seq === this.offersSeq) { this.offers = null; this.offersKey = ""; }
        }
      },
      get tierText() {
        const l = this.loyalty;
        if (!l || !l.tier_name) return "";
        if (!l.discount_bp) return l.tier_name;
        const rate = String((10000 - l.discount_bp) / 1000).replace(/\.?0+$/, "");
        return l.tier_name + " " + u.fmt(this.t.tier_off, { rate: rate, percent: l.discount_bp / 100 });
      },
      get pointsWorth() {
        const l = this.loyalty;
        return l && this.fenPerPoint ? this.yuan(Math.round(l.points * this.fenPerPoint)) : "";
      },
      get svSplit() {
        const l = this.loyalty;
        if (!l || !l.sv_bonus) return "";
        return u.fmt(this.t.sv_split, { principal: this.yuan(l.sv_principal), bonus: this.yuan(l.sv_bonus) });
      },

      // ---- what the member can use ----------------------------------------------------------
      get offersShown() {
        return !!(this.member && this.lines.length);
      },
      get offersFresh() {
        return this.offersShown && this.offers !== null && this.offersKey === JSON.stringify(this.offersBody());
      },
      // The most points the server takes with the coupons now chosen, when it is known: the
      // options price the cart without coupons, the recommendation with its own coupons.
      get pointsCap() {
        const o = this.offers;
        if (!o) return null;
        const r = o.recommendation;
        const chosen = this.couponCodes.slice().sort().join(",");
        if (r && chosen === r.coupon_codes.slice().sort().join(",")) return r.points;
        return this.couponCodes.length ? null : o.max_points;
      },
      couponApplied: function (code) {
        return this.couponCodes.indexOf(code) >= 0;
      },
      couponNote: function (c) {
        if (c.usable) return u.fmt(this.t.coupon_saves, { amount: this.yuan(c.saving) });
        if (c.problem === "coupon.below_minimum") return u.fmt(this.t.coupon_min_spend, { amount: this.yuan(c.min_spend) });
        return this.t["problem_" + String(c.problem).replace("coupon.", "")] || this.t.coupon_unusable;
      },
      get recommendation() {
        return this.offers ? this.offers.recommendation : null;
      },
      get recommendationText() {
        const r = this.recommendation;
        if (!r || r.saving <= 0) return this.offers ? this.t.nothing_to_use : "";
        const parts = r.coupon_codes.map(function (code) { return this.couponNames[code] || code; }, this);
        if (r.points) parts.push(u.fmt(this.t.points_count, { points: r.points }));
        return u.fmt(this.t.recommend_saves, { what: parts.join(" + "), amount: this.yuan(r.saving) });
      },
      get recommendationApplied() {
        const r = this.recommendation;
        if (!r) return false;
        const same = r.coupon_codes.length === this.couponCodes.length &&
          r.coupon_codes.every(function (c) { return this.couponCodes.indexOf(c) >= 0; }, this);
        return same && r.points === this.points;
      },
      applyRecommendation: async function () {
        const r = this.recommendation;
        if (!this.member) { this.say(this.t.member_needed); return; }
        if (!this.offersFresh || !r) { this.say(this.t.not_ready); return; }
        if (r.saving <= 0) { this.say(this.t.nothing_to_use, "info"); return; }
        const ok = await this.tryOffers(r.coupon_codes.slice(), r.points);
        if (ok) this.say(u.fmt(this.t.recommend_applied, { amount: this.yuan(r.saving) }), "info");
      },
      // Price the cart with these coupons and points; keep them only if the server agrees.
      // The refusal is the server's own message; it is returned (and shown) as is.
      tryOffers: async function (codes, points) {
        if (this.loyaltyBusy) return false;
        if (!(await this.ensureQuoted())) return false;
        const body = Object.assign(this.cartBody(), { coupon_codes: codes, points: this.member ? points : 0 });
        this.loyaltyBusy = true;
        try {
          const quote = await window.shouyin.api("POST", "/api/v1/orders/quote", body);
          clearTimeout(this.quoteTimer);
          this.quoteSeq++;
          this.couponCodes = codes;
          this.points = body.points;
          this.quote = quote;
          this.quotedKey = JSON.stringify(this.cartBody());
          this.quoting = false;
          this.good = this.snapshot();
          this.rememberCouponNames(quote.steps);
          return true;
        } catch (error) {
          this.lastOfferError = error && error.status ? error.message : this.t.network;
          return false;
        } finally {
          this.loyaltyBusy = false;
        }
      },
      lastOfferError: "",
      rememberCouponNames: function (steps) {
        steps.forEach(function (s) {
          if (s.kind === "coupon" && s.ref) this.couponNames[s.ref.split(":")[1]] = s.label;
        }, this);
      },
      toggleCoupon: async function (code) {
        const codes = this.couponApplied(code)
          ? this.couponCodes.filter(function (c) { return c !== code; })
          : this.couponCodes.concat([code]);
        const ok = await this.tryOffers(codes, this.points);
        if (!ok) { this.say(this.lastOfferError); return; }
        this.clearMessage();
      },
      // A scanned code that looks like a coupon (CP + 10): never looked up as a product.
      scanCoupon: async function (code) {
        if (!COUPON_PATTERN.test(code)) return false;
        if (!this.lines.length) { this.say(this.t.coupon_after_items); return true; }
        if (this.couponApplied(code)) { this.say(this.t.coupon_already, "info"); return true; }
        if (this.couponCodes.length >= MAX_COUPONS) { this.say(this.t.coupon_too_many); return true; }
        let coupon;
        try {
          coupon = await window.shouyin.api("GET", "/api/v1/coupons/" + encodeURIComponent(code));
        } catch (error) {
          this.fail(error);
          return true;
        }
        this.couponNames[code] = coupon.name;
        if (await this.tryOffers(this.couponCodes.concat([code]), this.points)) {
          this.say(u.fmt(this.t.coupon_applied, { name: coupon.name }), "info");
        } else {
          this.say(this.lastOfferError);
        }
        return true;
      },

      // ---- the offers dialog: coupons and points (⇧F7) -----------------------------------
      openOffers: async function () {
        if (!this.member) { this.say(this.t.member_needed); return; }
        if (!this.lines.length) { this.say(this.t.empty_cart); return; }
        if (!this.offersFresh) await this.loadOffers();
        this.openDialog("offers", { value: this.points ? String(this.points) : "", error: "" });
      },
      submitPoints: async function () {
        const text = String(this.form.value).trim();
        const points = text === "" ? 0 : (/^\d{1,8}$/.test(text) ? parseInt(text, 10) : null);
        if (points === null) { this.form.error = this.t.bad_points; return; }
        this.form.error = "";
        if (await this.tryOffers(this.couponCodes.slice(), points)) {
          this.closeDialog();
          this.say(points ? u.fmt(this.t.points_applied, { points: points }) : this.t.points_removed, "info");
        } else {
          this.form.error = this.lastOfferError;
        }
      },
      dialogToggleCoupon: async function (code) {
        const codes = this.couponApplied(code)
          ? this.couponCodes.filter(function (c) { return c !== code; })
          : this.couponCodes.concat([code]);
        this.form.error = (await this.tryOffers(codes, this.points)) ? "" : this.lastOfferError;
      },
      removeOffers: async function () {
        if (await this.tryOffers([], 0)) {
          this.form.value = "";
          this.form.error = "";
        }
      },

      // ---- the quote's steps, by name ---------------------------------------------------
      stepText: function (step) {
        const label = this.stepLabel(step.kind);
        if (step.kind === "points" && step.ref) {
          return label + " " + u.fmt(this.t.points_count, { points: step.ref.split(":")[1] });
        }
        return step.label ? label + " " + step.label : label;
      },

      // ---- stored value as a tender (F1) ------------------------------------------------
      get svUsed() {
        return this.cards.reduce(function (sum, c) { return sum + (c.method === "stored_value" ? c.amount : 0); }, 0);
      },
      get svLeft() {
        return this.loyalty ? Math.max(0, this.loyalty.sv_balance - this.svUsed) : 0;
      },
      payStoredValue: async function () {
        if (this.busy) return;
        if (!this.member) { this.say(this.t.member_needed); return; }
        if (!(await this.ensureQuoted())) return;
        if (!this.loyalty) await this.loadLoyalty(this.member.id);
        if (this.due <= 0) { this.payCash(); return; }
        if (this.svLeft <= 0) { this.say(this.t.sv_empty); return; }
        this.openDialog("stored-value", { value: u.yuanPlain(Math.min(this.svLeft, this.due)), error: "" });
      },
      submitStoredValue: function () {
        const text = String(this.form.value).trim();
        const amount = text === "" ? Math.min(this.svLeft, this.due) : u.scaled(text, 2);
        if (!amount) { this.form.error = this.t.bad_amount; return; }
        if (amount > this.svLeft) { this.form.error = u.fmt(this.t.sv_over_balance, { amount: this.yuan(this.svLeft) }); return; }
        if (amount > this.due) { this.form.error = u.fmt(this.t.sv_over_due, { amount: this.yuan(this.due) }); return; }
        if (amount < this.due) {
          // A split: stored value takes part, the rest is paid in cash (or F10 for the card).
          this.cards.push({ method: "stored_value", amount: amount, reference: null });
          this.openDialog("cash", { cash: "" });
          this.say(u.fmt(this.t.sv_part, { amount: this.yuan(amount), remaining: this.yuan(this.due) }), "info");
          return;
        }
        const payments = this.cardPayments();
        payments.push({ method: "stored_value", amount: amount, reference: null });
        this.submitOrder(payments);
      },

      // ---- recharge at the till (⇧F5) ---------------------------------------------------
      rechargeRules: [],
      openRecharge: function () {
        if (!this.member) { this.say(this.t.member_needed); return; }
        this.openDialog("recharge", { value: "", method: "cash", error: "", result: null,
                                      uuid: u.newUuid() });
        this.loadRechargeRules();
      },
      loadRechargeRules: async function () {
        try {
          const rules = await window.shouyin.api("GET", "/api/v1/stored-value/rules");
          const now = Date.now();
          this.rechargeRules = rules.filter(function (r) {
            return r.active && (!r.valid_from || Date.parse(r.valid_from) <= now) &&
              (!r.valid_to || Date.parse(r.valid_to) > now);
          }).sort(function (a, b) { return a.min_principal - b.min_principal; }).slice(0, 4);
        } catch (error) {
          this.rechargeRules = [];
        }
      },
      pickRechargeRule: function (rule) {
        this.form.value = u.yuanPlain(rule.min_principal);
        this.focusWhenShown('[data-dialog="recharge"] [data-focus]', true);
      },
      submitRecharge: async function () {
        if (this.form.result) { this.closeDialog(); return; }
        if (this.loyaltyBusy) return;
        const principal = u.scaled(String(this.form.value).trim(), 2);
        if (!principal) { this.form.error = this.t.bad_amount; return; }
        const memberId = this.member.id;
        const body = { client_uuid: this.form.uuid, member_id: memberId, store_id: this.store.id,
                       register_id: this.registerId, principal: principal, method: this.form.method };
        this.loyaltyBusy = true;
        this.form.error = "";
        try {
          const done = await window.shouyin.api("POST", "/api/v1/stored-value/recharges", body);
          this.form.result = done;
          // The amount field is gone: Enter on the focused "Done" closes the dialog.
          this.focusWhenShown('[data-dialog="recharge"] [data-testid="recharge-submit"]', false);
          if (this.member && this.member.id === memberId && this.loyalty) {
            this.loyalty.sv_principal = done.sv_principal_after;
            this.loyalty.sv_bonus = done.sv_bonus_after;
            this.loyalty.sv_balance = done.balance_after;
          }
          this.offersKey = "";  // the balance changed: ask again
          this.afterQuote();
        } catch (error) {
          this.form.error = error && error.status ? error.message : this.t.network;
        } finally {
          this.loyaltyBusy = false;
        }
      },
      // Once the result shows, Enter closes the dialog wherever the focus is: the amount field
      // it was typed in has just gone away.
      rechargeEnter: function (event) {
        if (this.dialog !== "recharge" || !this.form.result || event.repeat) return;
        event.preventDefault();
        this.closeDialog();
      },
      rechargeResultText: function () {
        const r = this.form.result;
        if (!r) return "";
        return u.fmt(this.t.recharge_done, { principal: this.yuan(r.principal), bonus: this.yuan(r.bonus),
                                             balance: this.yuan(r.balance_after) });
      },

      // ---- keys: F1 stored value, F7 recommendation, ⇧F7 offers, ⇧F5 recharge ------------
      loyaltyAction: function (event) {
        const key = event.key;
        if (key === "F1" && !event.shiftKey) return this.payStoredValue;
        if (key === "F7") return event.shiftKey ? this.openOffers : this.applyRecommendation;
        if (key === "F5" && event.shiftKey) return this.openRecharge;
        return null;
      },
    };
  };
})();
