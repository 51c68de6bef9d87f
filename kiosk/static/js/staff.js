// Staff pages: a button with data-confirm asks before its form is sent (drawing the review
// sample, locking, unsealing cannot be undone casually).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
