// gitsess serve: the viewer's only script (no inline script runs: the page's CSP forbids it).
// It loads the next log segment when the reader reaches the end of the page, polls for
// entries an agent appends, and copies commands. It inserts only HTML the viewer rendered
// (escaped by its templates), and never evaluates anything from a session.
"use strict";

const POLL_MS = 2000;

function entriesBox() {
  return document.getElementById("entries");
}

async function fetchFragment(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return { html: await response.text(), headers: response.headers };
}

function append(box, html) {
  const template = document.createElement("template");
  template.innerHTML = html; // inert: scripts in a template never run
  const results = [...template.content.querySelectorAll("details.result[data-result]")];
  box.append(template.content);
  for (const result of results) adoptResult(box, result);
}

// A tool's result that arrives in a later fragment than its call (the next segment, or
// a live update while the tool ran) goes inside the call, as if they came together. Its
// section stays, empty and hidden, so that a link to its id still lands.
function adoptResult(box, result) {
  if (!result.dataset.result) return;
  const selector = `details.tool[data-call="${CSS.escape(result.dataset.result)}"]`;
  const call = box.querySelector(selector);
  if (!call || call.querySelector(".output")) return;
  const label = document.createElement("div");
  label.className = "label";
  label.textContent = result.classList.contains("error") ? "error" : "output";
  call.append(label, ...[...result.children].filter((child) => child.tagName !== "SUMMARY"));
  if (result.classList.contains("error")) call.classList.add("error");
  result.closest("section.entry").hidden = true;
}

// The model of the last entry shown that names one: a fragment marks only a change.
function lastModel(box) {
  const marked = box.querySelectorAll("section.entry[data-model]");
  return marked.length ? marked[marked.length - 1].dataset.model : "";
}

// Later segments, one at a time, as the reader scrolls to the end.
function loadMoreOnScroll(box) {
  const more = document.getElementById("more");
  if (!more || !("IntersectionObserver" in window)) return;
  let busy = false;
  const observer = new IntersectionObserver(async (seen) => {
    if (busy || !seen.some((e) => e.isIntersecting)) return;
    busy = true;
    const page = Number(box.dataset.page) + 1;
    try {
      const session = encodeURIComponent(box.dataset.session);
      const log = encodeURIComponent(box.dataset.log);
      const model = encodeURIComponent(lastModel(box));
      const { html } = await fetchFragment(`/s/${session}/page/${page}?at=${log}&model=${model}`);
      append(box, html);
      box.dataset.page = String(page);
      if (page + 1 >= Number(box.dataset.pages)) {
        observer.disconnect();
        more.remove();
        return;
      }
    } catch (error) {
      more.querySelector("a").textContent = "Could not load the next entries: retry";
      return;
    } finally {
      busy = false;
    }
    // Still in view (a short segment): observing anew reports it again, so the next loads.
    observer.unobserve(more);
    observer.observe(more);
  });
  observer.observe(more);
}

// New entries while an agent works: appended once the page shows the log's end.
function followLive(box) {
  const live = document.getElementById("live");
  const session = encodeURIComponent(box.dataset.session);
  let polling = false; // one poll at a time: two in flight would append the same entries
  setInterval(async () => {
    if (polling) return;
    polling = true;
    const atEnd = Number(box.dataset.page) + 1 >= Number(box.dataset.pages);
    const count = Number(box.dataset.count);
    try {
      const model = encodeURIComponent(lastModel(box));
      const { html, headers } = await fetchFragment(
        `/s/${session}/entries?after=${count}&model=${model}`,
      );
      const now = Number(headers.get("x-gitsess-count"));
      if (live.dataset.lost) {
        delete live.dataset.lost;
        live.hidden = true;
      }
      if (now < count) {
        live.textContent = "This session was rewritten: reload the page to see it.";
        live.hidden = false;
        return;
      }
      if (now === count) return;
      if (atEnd) {
        append(box, html);
        box.dataset.count = String(now);
        // The page now shows the whole log: its last segment is the one shown.
        const pages = Number(headers.get("x-gitsess-pages")) || Number(box.dataset.pages);
        box.dataset.pages = String(pages);
        box.dataset.page = String(pages - 1);
        box.dataset.log = headers.get("x-gitsess-log") || box.dataset.log;
        for (const shown of document.querySelectorAll("dd.count")) shown.textContent = String(now);
      } else {
        live.textContent = `${now - count} new entries at the end of this session.`;
        live.hidden = false;
      }
    } catch (error) {
      live.textContent = "Lost the server: is gitsess serve still running?";
      live.dataset.lost = "1";
      live.hidden = false;
    } finally {
      polling = false;
    }
  }, POLL_MS);
}

function copyButtons() {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.copy");
    if (!button) return;
    event.preventDefault(); // a button in a <summary> copies, and leaves it folded
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      button.textContent = "copied";
    } catch (error) {
      window.prompt("Copy this command:", button.dataset.copy);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  copyButtons();
  const box = entriesBox();
  if (!box) return;
  loadMoreOnScroll(box);
  followLive(box);
});
