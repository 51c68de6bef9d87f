// The check-in desk: the scanner's field has the focus, for a scanner that types like a keyboard
// and ends with Enter; an ID checks in at once. Names go in their own field (the scanner's is a
// password field, which no input method can type Chinese into); a name lists the matches.
import { messages } from "./format.js";
import { csrfToken, fetchFresh, jsonBody, sendJSON } from "./requests.js";

const desk = document.querySelector("[data-desk]");
const form = desk.querySelector("[data-scan-form]");
const input = desk.querySelector("[data-scan-input]");
const nameForm = desk.querySelector("[data-name-form]");
const nameInput = desk.querySelector("[data-name-input]");
const result = desk.querySelector("[data-result]");
const matches = desk.querySelector("[data-matches]");
const csrf = csrfToken();
const msg = messages(desk);

async function post(url, body) {
  const response = await sendJSON("POST", url, body, { "X-CSRFToken": csrf });
  const data = await jsonBody(response);
  if (!response.ok) throw new Error(data.message || String(response.status));
  return data;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;  // never innerHTML: names are data
  return node;
}

function showPerson(data) {
  const person = data.person;
  result.replaceChildren();
  result.hidden = false;
  result.className = "desk-result " + (data.already ? "already" : "ok");
  const card = el("div", "person-card");
  if (person.photo) {
    const img = el("img", "person-photo");
    img.src = person.photo; img.alt = "";
    card.append(img);
  }
  const text = el("div", "person-text");
  text.append(el("div", "person-name", person.name));
  text.append(el("div", "person-meta", `${person.organization} · ${person.group}`));
  text.append(el("div", "person-id", person.id_number));
  const status = data.already
    ? msg("msgAlready", { time: data.at, by: data.by })
    : `${msg("msgOk")} ${data.at}`;
  text.append(el("div", "person-status", status));
  if (!data.already) {
    const undo = el("button", "undo-button", msg("msgUndo"));
    undo.type = "button";
    undo.addEventListener("click", () => undoCheckin(person.id));
    text.append(undo);
  }
  card.append(text);
  result.append(card);
  if (data.counts) updateCounts(data.counts);
}

function showMatches(list) {
  matches.replaceChildren(el("p", "", msg(list.length === 1 ? "msgChooseOne" : "msgChoose")));
  matches.hidden = false;
  for (const person of list) {
    const button = el("button", "match", `${person.name} · ${person.organization} · ${person.group} · ${person.id_number}`);
    button.type = "button";
    if (person.checked_in_at) {
      button.classList.add("checked");
      button.append(" ", el("span", "match-checked",
                            msg("msgChecked", { time: person.checked_in_time })));
    }
    button.addEventListener("click", () => scan({ contestant_id: person.id }));
    matches.append(button);
  }
}

function showError(text) {
  result.replaceChildren(el("div", "person-status", text));
  result.hidden = false;
  result.className = "desk-result error";
}

function clearResult() {
  result.replaceChildren();
  result.hidden = true;
  matches.replaceChildren();
  matches.hidden = true;
}

// `field`: where the search was typed. A check-in sends the focus back to the scanner's field
// for the next contestant; a name search that listed matches or found nobody keeps its text,
// selected, so that it can be refined or typed over.
async function scan(body, field = input) {
  clearResult();  // the previous person's card never stands beside a new search
  let checkedIn = false;
  try {
    const data = await post("/checkin/scan", body);
    if (data.matches) showMatches(data.matches); else { showPerson(data); checkedIn = true; }
  } catch (error) {
    showError(error.message === "Failed to fetch" ? msg("msgOffline") : error.message);
  }
  if (field === input || checkedIn) {
    input.value = "";
    if (checkedIn) nameInput.value = "";
    input.focus();
  } else {
    field.focus();
    field.select();
  }
}

async function undoCheckin(id) {
  const reason = window.prompt(msg("msgReason"));
  if (!reason) return;
  try {
    await post("/checkin/undo", { contestant_id: id, reason });
    showError(msg("msgUndone"));
    refreshCounts();
  } catch (error) { showError(error.message); }
}

function updateCounts(counts) {
  desk.querySelector("[data-present]").textContent = counts.present;
  desk.querySelector("[data-total]").textContent = counts.total;
}

async function refreshCounts() {
  try {
    const response = await fetchFresh("/checkin/counts");
    if (response.ok) updateCounts(await response.json());
  } catch (error) { /* the next poll will try again */ }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const query = input.value.trim();
  if (query) scan({ query });
});
nameForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const query = nameInput.value.trim();
  if (query) scan({ query }, nameInput);
});
// The field takes the focus back whenever it is lost, except to a match button.
document.addEventListener("click", (event) => {
  if (!event.target.closest("button, a, input, label")) input.focus();
});
// autofocus is applied on a later frame; take the focus now so no scanned key is lost.
input.focus();
setInterval(refreshCounts, 5000);
