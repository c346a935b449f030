// The till's held carts (挂单) and its memory of the cart in progress.
// ⇧F2 parks the cart on the server (/api/v1/held-carts) and starts a new sale; ⇧F3 lists the
// carts parked on this till and recalls one: its lines, member, coupons and points come back
// and the server prices it again. The cart in progress is also kept in this browser's
// localStorage, per register, so a reload or a crashed browser loses nothing; a paid cart is
// forgotten at once. A mixin merged into the till component (till.js), so `this` is the till.
(function () {
  "use strict";

  const STATE_VERSION = 1;

  window.shouyinTillHeld = function () {
    const u = window.shouyinTillUtil;
    return {
      heldCarts: [],
      heldCount: 0,
      heldIndex: 0,
      heldBusy: false,
      heldLoading: false,

      // ---- start-up (called by till.js) -------------------------------------------------
      heldInit: function () {
        const self = this;
        if (this.registerId) {
          this.restoreSavedCart();
          this.loadHeldCount();
        }
        this.$watch("savedCartState", function (state) { self.saveCart(state); });
      },
      // Called by till.js when the cashier picks another register.
      registerChanged: function (before) {
        if (before && before !== this.registerId) localStorage.removeItem(this.cartStoreKey(before));
        if (!this.lines.length) this.restoreSavedCart();
        else this.saveCart(this.savedCartState);
        this.loadHeldCount();
      },

      // ---- the cart in progress, kept in localStorage ----------------------------------
      cartStoreKey: function (registerId) {
        return "shouyin.till.cart." + this.store.id + "." + (registerId || this.registerId);
      },
      // What a reload needs to rebuild the sale; "" when there is nothing to keep (no lines,
      // or the sale is paid and its receipt shows).
      get savedCartState() {
        if (!this.registerId || this.receipt || !this.lines.length) return "";
        return JSON.stringify({
          v: STATE_VERSION, register_id: this.registerId, client_uuid: this.clientUuid,
          lines: this.lines.map(function (l) {
            return { product: l.product, quantity: l.quantity, price_override: l.price_override,
                     discount: l.discount };
          }),
          order_discount: this.orderDiscount, member: this.member,
          coupon_codes: this.couponCodes || [], points: this.points || 0, cards: this.cards,
        });
      },
      saveCart: function (state) {
        if (!this.registerId) return;
        try {
          if (state) localStorage.setItem(this.cartStoreKey(), state);
          else localStorage.removeItem(this.cartStoreKey());
        } catch (error) {
          console.warn("cart not kept", error);  // storage full or disabled: selling goes on
        }
      },
      restoreSavedCart: function () {
        let saved = null;
        try {
          saved = JSON.parse(localStorage.getItem(this.cartStoreKey()) || "null");
        } catch (error) {
          saved = null;
        }
        if (!saved || saved.v !== STATE_VERSION || !Array.isArray(saved.lines) || !saved.lines.length) return;
        // The same client UUID: if the order went through just before the reload, paying
        // again returns that order instead of making a second one.
        if (saved.client_uuid) this.clientUuid = saved.client_uuid;
        this.cards = Array.isArray(saved.cards) ? saved.cards : [];
        this.applyCart(saved.lines, saved.order_discount, saved.member, saved.coupon_codes, saved.points);
        this.say(this.t.held_restored, "info");
      },

      // ---- putting a cart on the till -----------------------------------------------------
      // lines: [{product, quantity, price_override, discount}]; the server prices the result.
      applyCart: function (lines, orderDiscount, member, couponCodes, points) {
        this.lines = lines.map(function (l) {
          return { key: this.nextKey++, product: l.product, quantity: l.quantity,
                   price_override: l.price_override === undefined ? null : l.price_override,
                   discount: l.discount || null };
        }, this);
        this.orderDiscount = orderDiscount || null;
        this.selected = this.lines.length - 1;
        // A refused quote goes back to this cart, not to an empty one.
        this.good = this.snapshot();
        if (member && this.attachMember) {
          this.attachMember(member);
          // After attaching: attaching a member clears the coupons and points of the sale.
          this.couponCodes = (couponCodes || []).slice();
          this.points = points || 0;
        }
        this.scrollToSelected();
        this.runQuote();
      },

      // ---- parking (⇧F2) -----------------------------------------------------------------
      openPark: async function () {
        if (!this.lines.length) { this.say(this.t.empty_cart); return; }
        if (!this.registerId) { this.changeRegister(); return; }
        if (this.cards.length) { this.say(this.t.held_paid_part); return; }
        if (!(await this.ensureQuoted())) return;
        this.openDialog("park", { value: "", error: "" });
      },
      submitPark: async function () {
        if (this.heldBusy) return;
        const label = String(this.form.value || "").trim();
        const body = { store_id: this.store.id, register_id: this.registerId,
                       label: label || null, cart: this.cartBody() };
        this.heldBusy = true;
        this.form.error = "";
        try {
          const held = await window.shouyin.api("POST", "/api/v1/held-carts", body);
          this.newSale();
          this.heldCount += 1;
          this.say(u.fmt(this.t.held_parked, { label: held.label || ("#" + held.id), count: this.heldCount }), "info");
        } catch (error) {
          this.form.error = error && error.status ? error.message : this.t.network;
        } finally {
          this.heldBusy = false;
        }
      },

      // ---- recalling (⇧F3) ---------------------------------------------------------------
      loadHeldCount: async function () {
        if (!this.registerId) { this.heldCount = 0; return; }
        try {
          const page = await window.shouyin.api("GET", "/api/v1/held-carts?limit=1&register_id=" + this.registerId);
          this.heldCount = page.total;
        } catch (error) {
          // The badge is a convenience: a failure leaves the last count.
        }
      },
      openRecall: async function () {
        if (!this.registerId) { this.changeRegister(); return; }
        if (this.lines.length) { this.say(this.t.held_busy); return; }
        this.heldCarts = [];
        this.heldIndex = 0;
        this.openDialog("recall", { error: "", confirm: null });
        await this.loadHeld();
        this.focusWhenShown('[data-dialog="recall"] [data-focus]', false);
      },
      loadHeld: async function () {
        this.heldLoading = true;
        try {
          const page = await window.shouyin.api("GET", "/api/v1/held-carts?limit=50&register_id=" + this.registerId);
          this.heldCarts = page.items;
          this.heldCount = page.total;
          this.heldIndex = Math.min(this.heldIndex, Math.max(0, page.items.length - 1));
        } catch (error) {
          this.form.error = error && error.status ? error.message : this.t.network;
        } finally {
          this.heldLoading = false;
        }
      },
      heldKey: function (event) {
        if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
        event.preventDefault();
        const n = this.heldCarts.length;
        if (!n) return;
        this.heldIndex = (this.heldIndex + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
        this.form.confirm = null;
      },
      heldTime: function (held) {
        const at = new Date(held.created_at);
        return at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hour12: false });
      },
      heldTitle: function (held) {
        return held.label || u.fmt(this.t.held_untitled, { id: held.id });
      },
      heldMeta: function (held) {
        return u.fmt(this.t.held_meta, { count: held.item_count, user: held.user_name, time: this.heldTime(held) });
      },
      submitRecall: function () {
        if (this.heldCarts.length) this.recallHeld(this.heldIndex);
      },
      recallHeld: async function (i) {
        const held = this.heldCarts[i];
        if (!held || this.heldBusy) return;
        this.heldBusy = true;
        this.form.error = "";
        let got;
        try {
          got = await window.shouyin.api("POST", "/api/v1/held-carts/" + held.id + "/recall");
        } catch (error) {
          this.form.error = error && error.status ? error.message : this.t.network;
          if (error && error.status === 404) this.loadHeld();  // another till took it
          this.heldBusy = false;
          return;
        }
        try {
          await this.restoreRecalled(got);
        } finally {
          this.heldBusy = false;
        }
      },
      // The server handed the cart over (and forgot it): rebuild it on the till.
      restoreRecalled: async function (held) {
        const cart = held.cart;
        const ids = Array.from(new Set(cart.lines.map(function (l) { return l.product_id; })));
        let products;
        let member = null;
        try {
          products = await Promise.all(ids.map(function (id) {
            return window.shouyin.api("GET", "/api/v1/products/" + id).catch(function (error) {
              if (error && error.status === 404) return null;
              throw error;
            });
          }));
          if (cart.member_id) {
            member = await window.shouyin.api("GET", "/api/v1/members/" + cart.member_id).catch(function (error) {
              if (error && error.status) return null;
              throw error;
            });
          }
        } catch (error) {
          await this.parkAgain(held);
          return;
        }
        const byId = {};
        products.forEach(function (p) { if (p) byId[p.id] = p; });
        const gone = [];
        const lines = [];
        cart.lines.forEach(function (l) {
          const product = byId[l.product_id];
          if (product && product.active) lines.push(Object.assign({}, l, { product: product }));
          else if (gone.indexOf(product ? product.name : "#" + l.product_id) < 0) gone.push(product ? product.name : "#" + l.product_id);
        });
        const usable = member && member.status === "active" ? member : null;
        this.closeDialog();
        this.newSale();
        this.heldCount = Math.max(0, this.heldCount - 1);
        this.applyCart(lines, cart.order_discount,
                       usable && { id: usable.id, name: usable.name, card_no: usable.card_no,
                                   mobile_masked: usable.mobile_masked },
                       cart.coupon_codes, cart.points);
        if (gone.length) this.say(u.fmt(this.t.held_gone, { names: gone.join("、") }));
        else if (cart.member_id && !usable) this.say(this.t.held_member_gone);
        else this.say(u.fmt(this.t.held_recalled, { label: this.heldTitle(held) }), "info");
      },
      // The network failed between taking the cart and rebuilding it: put it back.
      parkAgain: async function (held) {
        const body = { store_id: held.store_id, register_id: held.register_id, label: held.label,
                       cart: held.cart };
        try {
          await window.shouyin.api("POST", "/api/v1/held-carts", body);
          this.form.error = this.t.network;
        } catch (error) {
          this.form.error = this.t.held_lost;
        }
        this.loadHeld();
      },
      deleteHeld: async function (i) {
        const held = this.heldCarts[i];
        if (!held || this.heldBusy) return;
        this.heldIndex = i;
        // Two steps: the first press asks, the second deletes.
        if (this.form.confirm !== held.id) { this.form.confirm = held.id; return; }
        this.heldBusy = true;
        try {
          await window.shouyin.api("DELETE", "/api/v1/held-carts/" + held.id);
          this.form.confirm = null;
        } catch (error) {
          this.form.error = error && error.status ? error.message : this.t.network;
        } finally {
          this.heldBusy = false;
        }
        await this.loadHeld();
        this.focusWhenShown('[data-dialog="recall"] [data-focus]', false);
      },

      // ---- keys: ⇧F2 park, ⇧F3 recall ----------------------------------------------------
      heldAction: function (event) {
        if (!event.shiftKey) return null;
        if (event.key === "F2") return this.openPark;
        if (event.key === "F3") return this.openRecall;
        return null;
      },
    };
  };
})();
