// A complaint (投诉) opened at the till, ⇧F11 (templates/till/_complaint.html): the customer at
// the counter tells the cashier what went wrong; the cashier notes category, priority, a title
// and the customer's words, linked to the member on the sale and to the last receipt. The
// ticket goes to the store's queue (/office/tickets); the cashier reads its number back to the
// customer. A mixin merged into the till component (till.js), so `this` is the till.
(function () {
  "use strict";

  const TITLE_MAX = 120;
  const DESCRIPTION_MAX = 4000;

  function emptyComplaint() {
    return { category: "product", priority: "normal", title: "", description: "",
             withMember: true, withOrder: true, error: "", busy: false, done: null, uuid: null };
  }

  function focusOn(selector) {
    let left = 20;
    (function next() {
      requestAnimationFrame(function () {
        const el = document.querySelector(selector);
        if (el && el.offsetParent !== null) el.focus();
        else if (left-- > 0) next();
      });
    })();
  }

  window.shouyinTillComplaint = function () {
    return {
      complaint: emptyComplaint(),
      // The sale just paid, kept after the receipt is put away: a customer often complains
      // about what they have just bought. Its member too, since the next sale starts without.
      complaintLast: null,

      complaintInit: function () {
        const self = this;
        this.$watch("receipt", function (receipt) {
          if (receipt && receipt.id) {
            self.complaintLast = { id: receipt.id, number: receipt.number, member: self.member };
          }
        });
      },
      complaintAction: function (event) {
        return event.key === "F11" && event.shiftKey ? this.openComplaint : null;
      },
      get complaintOrder() {
        return this.complaintLast;
      },
      // The member the complaint is about: the one on the sale, else the last receipt's.
      get complaintMember() {
        if (this.member) return this.member;
        const last = this.complaintLast;
        return last && this.complaint.withOrder ? last.member : null;
      },
      openComplaint: function () {
        if (this.receipt) this.newSale();
        this.complaint = emptyComplaint();
        this.complaint.uuid = window.shouyinTillUtil.newUuid();
        // The last receipt is ticked only while it can still be this customer's: no sale
        // under way, and no other member on the till.
        const last = this.complaintLast;
        const otherMember = this.member && !(last && last.member && last.member.id === this.member.id);
        this.complaint.withOrder = !!last && !this.lines.length && !otherMember;
        this.openDialog("complaint");
      },
      // Enter in the title goes on to the description (not a half-filled ticket); Ctrl+Enter
      // opens the ticket from anywhere in the dialog.
      complaintKey: function (event) {
        if (event.key !== "Enter" || this.complaint.done) return;
        if (event.ctrlKey || event.metaKey) {
          event.preventDefault();
          this.submitComplaint();
        } else if (event.target.dataset && event.target.dataset.cpNext) {
          event.preventDefault();
          focusOn('[data-dialog="complaint"] textarea');
        }
      },
      complaintBody: function () {
        const c = this.complaint;
        const member = this.complaintMember;
        const order = c.withOrder && this.complaintLast ? this.complaintLast : null;
        return {
          client_uuid: c.uuid,
          store_id: this.store.id,
          category: c.category,
          priority: c.priority,
          title: c.title.trim().slice(0, TITLE_MAX),
          description: c.description.trim().slice(0, DESCRIPTION_MAX),
          member_id: member && c.withMember ? member.id : null,
          order_id: order ? order.id : null,
        };
      },
      submitComplaint: async function () {
        const c = this.complaint;
        if (c.done) { this.closeDialog(); return; }
        if (c.busy) return;
        const body = this.complaintBody();
        if (!body.title) { c.error = this.t.cp_title_needed; focusOn('[data-testid="complaint-title"]'); return; }
        if (!body.description) { c.error = this.t.cp_description_needed; focusOn('[data-dialog="complaint"] textarea'); return; }
        c.error = "";
        c.busy = true;
        try {
          // The same client UUID on a retry: a lost answer never opens the complaint twice.
          const ticket = await window.shouyin.api("POST", "/api/v1/tickets?source=till", body);
          c.done = { id: ticket.id, number: ticket.number };
          this.say(window.shouyinTillUtil.fmt(this.t.cp_opened, { number: ticket.number }), "info");
          focusOn('[data-dialog="complaint"] [data-cp-done]');
        } catch (error) {
          c.error = error && error.status ? error.message : this.t.network;
        } finally {
          c.busy = false;
        }
      },
    };
  };
})();
