// The till's member panel (会员): find a member by mobile, last 4 digits, card, name or pinyin
// initials, pick among several, register a new one with consent, attach it to the sale.
// An Alpine mixin: till.js merges these properties into its component, so `this` is the till.
// Only masked mobiles are ever shown; the server decides who matches and who may register.
// Once attached, the panel also shows the member's visits, last visit and top 2 categories,
// and (till_loyalty.js) the tier, points and stored value.
(function () {
  "use strict";

  const CARD_PATTERN = /^9\d{11}$/;
  const MOBILE_PATTERN = /^1\d{10}$/;

  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? values[key] : all;
    });
  }

  function memberForm(values) {
    return Object.assign({ q: "", searched: null, error: "", mobile: "", name: "",
                           consent: false, marketing: false }, values || {});
  }

  // A function, so each till gets its own state.
  window.shouyinTillMember = function () { return {
    member: null,
    members: [],
    memberIndex: 0,
    memberBusy: false,
    // {visits, last_visit, categories: [name, name]} of the attached member, once loaded.
    memberStats: null,

    // ---- finding ----------------------------------------------------------------------
    openMember: function () {
      this.members = [];
      this.memberIndex = 0;
      this.openDialog("member", memberForm());
    },
    memberSearchInput: function () {
      // A changed query makes the shown matches (or the "no match" offer) stale.
      if (this.form.searched !== null && String(this.form.q).trim() !== this.form.searched) {
        this.form.searched = null;
        this.form.error = "";
        this.members = [];
      }
    },
    memberKey: function (event) {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      event.preventDefault();
      const n = this.members.length;
      if (!n) return;
      this.memberIndex = (this.memberIndex + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
      const self = this;
      this.$nextTick(function () {
        const row = self.$root.querySelector('[data-member="' + self.memberIndex + '"]');
        if (row) row.scrollIntoView({ block: "nearest" });
      });
    },
    get memberNoMatch() {
      return this.dialog === "member" && this.form.searched !== null && !this.members.length && !this.form.error;
    },
    submitMemberSearch: async function () {
      if (this.memberBusy) return;
      const q = String(this.form.q).trim();
      if (!q) { this.form.error = this.t.member_query_needed; return; }
      if (q === this.form.searched) {
        // Enter again on the same query: pick the highlighted match, or register.
        if (this.members.length) { this.pickMember(this.memberIndex); return; }
        if (!this.form.error) { this.openMemberRegister(); return; }
      }
      this.memberBusy = true;
      this.form.error = "";
      try {
        const found = await window.shouyin.api("GET", "/api/v1/members/lookup?q=" + encodeURIComponent(q));
        if (this.dialog !== "member" || String(this.form.q).trim() !== q) return;
        this.form.searched = q;
        this.members = found;
        this.memberIndex = 0;
        // The server sends at most 50: past that, the cashier narrows the search.
        this.form.more = found.length >= 50 ? this.t.member_more : "";
        if (found.length === 1) this.attachMember(found[0]);
      } catch (error) {
        this.form.searched = q;
        this.members = [];
        this.form.error = error && error.status ? error.message : this.t.network;
      } finally {
        this.memberBusy = false;
      }
    },
    pickMember: function (i) {
      const member = this.members[i];
      if (member) this.attachMember(member);
    },

    // ---- registering ------------------------------------------------------------------
    openMemberRegister: function () {
      const typed = String(this.form.q || "").trim().replace(/[\s-]/g, "");
      const mobile = MOBILE_PATTERN.test(typed) ? typed : "";
      this.members = [];
      this.openDialog("member-register", memberForm({ mobile: mobile }));
      if (mobile) this.focusWhenShown('[data-dialog="member-register"] [data-testid="member-name"]', false);
    },
    memberRegisterEnter: function (event) {
      // Enter on a checkbox does not submit a form by itself; at the till it should.
      if (event.target && event.target.type === "checkbox") {
        event.preventDefault();
        this.submitMemberRegister();
      }
    },
    submitMemberRegister: async function () {
      if (this.memberBusy) return;
      this.memberBusy = true;
      this.form.error = "";
      const body = { mobile: String(this.form.mobile).trim(), name: String(this.form.name).trim(),
                     consent: !!this.form.consent, marketing_opt_in: !!this.form.marketing };
      try {
        const member = await window.shouyin.api("POST", "/api/v1/members", body);
        if (this.dialog !== "member-register") return;
        this.attachMember(member);
      } catch (error) {
        this.form.error = error && error.status ? error.message : this.t.network;
      } finally {
        this.memberBusy = false;
      }
    },

    // ---- the attached member ----------------------------------------------------------
    attachMember: function (member) {
      // Keep only what the panel shows: never a full mobile, even for roles that may see it.
      this.member = { id: member.id, name: member.name, card_no: member.card_no,
                      mobile_masked: member.mobile_masked };
      this.memberStats = null;
      this.loadMemberStats(member.id);
      if (this.memberChanged) this.memberChanged();
      this.members = [];
      if (this.dialog === "member" || this.dialog === "member-register") this.closeDialog();
      this.say(fmt(this.t.member_attached, { name: member.name }), "info");
    },
    detachMember: function () {
      if (!this.member) return;
      this.member = null;
      this.memberStats = null;
      if (this.memberChanged) this.memberChanged();
      this.say(this.t.member_detached, "info");
      this.focusScan();
    },
    // The short purchase history for the panel; a failure just leaves it out.
    loadMemberStats: async function (memberId) {
      try {
        const history = await window.shouyin.api("GET", "/api/v1/members/" + memberId + "/history?limit=3");
        if (!this.member || this.member.id !== memberId) return;  // another member meanwhile
        const named = (history.favourite_categories || []).filter(function (c) { return c.name; });
        this.memberStats = {
          visits: history.visits,
          last_visit: history.last_visit || "",
          categories: named.slice(0, 2).map(function (c) { return c.name; }),
        };
      } catch (error) {
        if (this.member && this.member.id === memberId) this.memberStats = null;
      }
    },
    // A scanned member card in the barcode field: true when a member was attached.
    attachMemberCard: async function (code) {
      if (!CARD_PATTERN.test(code)) return false;
      try {
        const found = await window.shouyin.api("GET", "/api/v1/members/lookup?q=" + encodeURIComponent(code));
        if (found.length !== 1) return false;
        this.attachMember(found[0]);
        return true;
      } catch (error) {
        return false;
      }
    },
  }; };
})();
