// Select all, none, or the stations whose badge was never printed.
const boxes = () => document.querySelectorAll("input[name=station]");
for (const button of document.querySelectorAll("[data-select]")) {
  button.addEventListener("click", () => {
    const mode = button.dataset.select;
    for (const box of boxes()) {
      box.checked = mode === "all" || (mode === "unprinted" && box.dataset.printed === "0");
    }
  });
}
