// An accessible "…" actions menu (WAI-ARIA menu button pattern). Items the rules forbid
// stay focusable but aria-disabled, with their reason shown and read out.

import { h } from "./dom.js";

let openMenu = null;

function closeOpenMenu(focusTrigger = false) {
  openMenu?.close(focusTrigger);
}

document.addEventListener("click", (event) => {
  if (openMenu && !openMenu.root.contains(event.target)) closeOpenMenu();
});

/**
 * items: [{label, onSelect, disabledReason?}]; returns the wrapper element.
 * `key` makes focus survive a re-render (data-focus-key on the trigger).
 */
export function actionsMenu(label, key, items) {
  const menuId = `menu-${key}`;
  const trigger = h(
    "button",
    {
      type: "button",
      class: "icon-button",
      "aria-label": label,
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-controls": menuId,
      "data-focus-key": `menu-trigger-${key}`,
    },
    h("span", { "aria-hidden": "true" }, "…"),
  );
  const buttons = [];
  const list = h(
    "ul",
    { id: menuId, class: "menu", role: "menu", "aria-label": label, hidden: true },
    items.map((item, index) => {
      const reasonId = `${menuId}-reason-${index}`;
      const button = h(
        "button",
        {
          type: "button",
          role: "menuitem",
          tabindex: "-1",
          class: item.danger ? "menu-item menu-item-danger" : "menu-item",
          "aria-disabled": item.disabledReason ? "true" : false,
          "aria-describedby": item.disabledReason ? reasonId : false,
        },
        item.label,
        item.disabledReason && h("span", { id: reasonId, class: "menu-reason" }, item.disabledReason),
      );
      button.addEventListener("click", () => {
        if (item.disabledReason) return;
        menu.close(true);
        item.onSelect(trigger);
      });
      buttons.push(button);
      return h("li", { role: "none" }, button);
    }),
  );
  const root = h("div", { class: "menu-wrap" }, trigger, list);

  const menu = {
    root,
    open() {
      closeOpenMenu();
      list.hidden = false;
      trigger.setAttribute("aria-expanded", "true");
      openMenu = menu;
      (buttons.find((b) => !b.hasAttribute("aria-disabled")) ?? buttons[0])?.focus();
    },
    close(focusTrigger) {
      list.hidden = true;
      trigger.setAttribute("aria-expanded", "false");
      if (openMenu === menu) openMenu = null;
      if (focusTrigger) trigger.focus();
      // Tells the list around it that it may re-render now (payment-methods.js).
      root.dispatchEvent(new CustomEvent("menuclose", { bubbles: true }));
    },
  };

  trigger.addEventListener("click", () => (list.hidden ? menu.open() : menu.close(true)));
  trigger.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      menu.open();
    }
  });
  list.addEventListener("keydown", (event) => {
    const index = buttons.indexOf(document.activeElement);
    const move = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (move) {
      event.preventDefault();
      buttons[(index + move + buttons.length) % buttons.length].focus();
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      buttons[event.key === "Home" ? 0 : buttons.length - 1].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      menu.close(true);
    } else if (event.key === "Tab") {
      menu.close(false);
    }
  });
  return root;
}
