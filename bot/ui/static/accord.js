// Accord's chat page: citation markers and scrolling. Loaded by bot/ui/app.py (launch js=).
// Hovering (briefly) or clicking an [n] marker scrolls its card into view and flashes it.
(() => {
  if (window.__accordCites) return;
  window.__accordCites = true;
  let timer = null;
  const marker = (event) => event.target && event.target.closest
    ? event.target.closest("a.accord-cite") : null;
  const show = (link) => {
    const id = (link.getAttribute("href") || "").slice(1);
    const card = id ? document.getElementById(id) : null;
    if (!card) return;
    card.scrollIntoView({ behavior: "smooth", block: "nearest" });
    card.classList.add("accord-flash");
    setTimeout(() => card.classList.remove("accord-flash"), 1400);
  };
  document.addEventListener("click", (event) => {
    const link = marker(event);
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    show(link);
  }, true);
  document.addEventListener("mouseover", (event) => {
    const link = marker(event);
    if (!link) return;
    clearTimeout(timer);
    timer = setTimeout(() => show(link), 250);
  });
  document.addEventListener("mouseout", (event) => {
    if (marker(event)) clearTimeout(timer);
  });
  document.addEventListener("focusin", (event) => {
    const link = marker(event);
    if (link) show(link);
  });
  // Follow the answer while it streams; when it is complete, show its beginning (not the
  // bottom of its source cards), so the reader starts with the answer text.
  const shown = new Set();
  let pending = false;
  const follow = () => {
    pending = false;
    const log = document.querySelector("#accord-chat [role=log]");
    if (!log) return;
    if (log.querySelector(".accord-streaming")) {
      log.scrollTop = log.scrollHeight;
      return;
    }
    const answers = log.querySelectorAll(".accord-answer, .accord-error");
    const last = answers[answers.length - 1];
    const key = last && (last.id || last.textContent.slice(0, 80));
    if (!last || shown.has(key)) return;
    shown.add(key);
    const base = log.getBoundingClientRect().top;
    const questions = log.querySelectorAll(".accord-q");
    const question = questions[questions.length - 1];
    let top = last.getBoundingClientRect().top - base - 48;
    if (question) {  // start at the question when it fits comfortably above the answer
      const fromQuestion = question.getBoundingClientRect().top - base - 16;
      if (top - fromQuestion < log.clientHeight / 3) top = fromQuestion;
    }
    log.scrollTop += top;
  };
  new MutationObserver(() => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(follow);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
