// The moral graph's pages: the graph drawn as plain SVG, policy suggestions beside the interview's fields,
// the interview as a chat with the upstream model, and a model's draft of a transition's story.
// Written for valueprint (no library): a layered drawing of a small directed graph is a few dozen lines.
// Every text goes in through textContent, never as HTML; nothing is saved without the person's click.
"use strict";

(function () {
  let SVG = "";  // the SVG namespace, read from the page's own <svg> element (no URL written here)

  function csrf() {
    const field = document.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf() },
      body: JSON.stringify(body || {}),
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error((data.error && data.error.message) || "the server refused (" + response.status + ")");
    }
    return data;
  }

  function svg(name, attributes, parent) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, String(value));
    if (parent) parent.appendChild(element);
    return element;
  }

  // -- the graph ------------------------------------------------------------------------------------

  // Layers by longest path from the least-wise values (bounded, so a cycle cannot loop forever).
  function layers(nodes, edges) {
    const layer = new Map(nodes.map((n) => [n, 0]));
    for (let round = 0; round < nodes.length; round += 1) {
      let moved = false;
      for (const e of edges) {
        if (layer.get(e.to_id) < layer.get(e.from_id) + 1 && layer.get(e.from_id) + 1 < nodes.length) {
          layer.set(e.to_id, layer.get(e.from_id) + 1);
          moved = true;
        }
      }
      if (!moved) break;
    }
    return layer;
  }

  function shortened(text, most) {
    return text.length > most ? text.slice(0, most - 1) + "…" : text;
  }

  function say(box, text) {
    const note = box.querySelector(".mg-note");
    note.textContent = text;
    note.hidden = !text;
  }

  function drawGraph(box, graph) {
    const drawing = box.querySelector("svg");
    SVG = drawing.namespaceURI;
    drawing.replaceChildren();
    if (!graph.values.length) {
      say(box, "No values yet.");
      return;
    }
    const ids = graph.values.map((v) => v.id);
    const kept = graph.edges.filter((e) => e.kept);
    const contested = graph.edges.filter((e) => e.status === "contested" && e.endorse > e.against);
    const layer = layers(ids, kept);
    const depth = Math.max(...layer.values());
    const rows = new Map();
    for (const value of graph.values) {  // values come by PageRank, highest first
      const row = layer.get(value.id);
      if (!rows.has(row)) rows.set(row, []);
      rows.get(row).push(value);
    }
    const width = Math.max(520, 220 * Math.max(...[...rows.values()].map((r) => r.length)));
    const height = 110 * (depth + 1) + 20;
    const top = Math.max(...graph.values.map((v) => v.rank || 0)) || 1;
    const place = new Map();
    for (const [row, values] of rows) {
      values.forEach((value, i) => {
        const radius = 10 + 22 * Math.sqrt((value.rank || 0) / top);
        const x = (width * (i + 0.8)) / (values.length + 0.6);  // a little left of centre: labels go right
        place.set(value.id, { x, y: 45 + (depth - row) * 110, r: radius, value });
      });
    }
    drawing.setAttribute("viewBox", `0 0 ${width} ${height}`);
    drawing.setAttribute("width", "100%");
    const defs = svg("defs", {}, drawing);
    const marker = svg("marker", {
      id: "mg-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 5, markerHeight: 5, orient: "auto-start-reverse",
    }, defs);
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#4a5568" }, marker);
    let bends = 0;
    const line = (e, dashed) => {
      const a = place.get(e.from_id);
      const b = place.get(e.to_id);
      if (!a || !b) return;
      // A move that skips a layer bends aside (alternately left and right), so it never runs through a value.
      const span = Math.abs(layer.get(e.to_id) - layer.get(e.from_id));
      const side = bends++ % 2 ? 1 : -1;
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const length = Math.hypot(dx, dy) || 1;
      const bend = span > 1 || (span === 0 && dx === 0) ? side * 45 * Math.max(1, span - 1) : 0;
      const cx = (a.x + b.x) / 2 + (-dy / length) * bend;
      const cy = (a.y + b.y) / 2 + (dx / length) * bend;
      const toward = (from, x, y, by) => {
        const d = Math.hypot(x - from.x, y - from.y) || 1;
        return [from.x + ((x - from.x) / d) * by, from.y + ((y - from.y) / d) * by];
      };
      const [x1, y1] = toward(a, cx, cy, a.r);
      const [x2, y2] = toward(b, cx, cy, b.r + 3);
      const drawn = svg("path", {
        d: `M ${x1} ${y1} Q ${cx} ${cy} ${x2} ${y2}`, fill: "none",
        stroke: dashed ? "#a0aec0" : "#4a5568", "stroke-width": 1 + 3 * e.likelihood,
        "marker-end": "url(#mg-arrow)", class: dashed ? "mg-edge mg-contested" : "mg-edge",
      }, drawing);
      if (dashed) drawn.setAttribute("stroke-dasharray", "6 4");
      svg("title", {}, drawn).textContent =
        `${a.value.title} → ${b.value.title}: ${e.endorse} for, ${e.against} against, ${e.unsure} not sure` +
        (dashed ? " (contested)" : `; likelihood ${e.likelihood.toFixed(2)}`);
    };
    contested.forEach((e) => line(e, true));
    kept.forEach((e) => line(e, false));
    for (const { x, y, r, value } of place.values()) {
      const winner = graph.winner && graph.winner.id === value.id;
      const node = svg("g", { class: winner ? "mg-node mg-winner-node" : "mg-node", "data-value-id": value.id }, drawing);
      svg("circle", { cx: x, cy: y, r, fill: winner ? "#2f855a" : "#3182ce", stroke: "#1a202c", "stroke-width": winner ? 3 : 1 }, node);
      const label = svg("text", { x: x + r + 6, y: y + 4, "font-size": 13, fill: "#1a202c" }, node);
      label.textContent = shortened(value.title, 26);
      svg("title", {}, node).textContent =
        `${value.title}: ${value.description} (PageRank ${(value.rank || 0).toFixed(3)}, ${value.members} card${value.members === 1 ? "" : "s"})`;
    }
  }

  async function loadGraph(box) {
    try {
      const response = await fetch(box.dataset.graphUrl, { credentials: "same-origin" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      drawGraph(box, await response.json());
      box.dataset.drawn = "true";
    } catch (error) {
      say(box, "The graph could not be drawn (" + error.message + "); the table below has the same.");
    }
  }

  // -- suggestions of similar policies --------------------------------------------------------------

  function suggest(form, input) {
    const list = document.getElementById(input.getAttribute("aria-describedby"));
    let timer = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const text = input.value.trim();
      if (text.length < 8) {
        list.textContent = "";
        return;
      }
      timer = setTimeout(async () => {
        const url = form.dataset.suggestUrl + "?top=3&text=" + encodeURIComponent(text);
        const response = await fetch(url, { credentials: "same-origin" }).catch(() => null);
        if (!response || !response.ok) return;
        const found = (await response.json()).filter((s) => s.text !== input.value.trim());
        list.textContent = "";
        if (!found.length) return;
        const intro = document.createElement("p");
        intro.className = "hint";
        intro.textContent = "Similar, from other people's cards:";
        list.appendChild(intro);
        const items = document.createElement("ul");
        for (const s of found) {
          const item = document.createElement("li");
          const words = document.createElement("span");
          words.textContent = `${s.text} (from “${s.value}”) `;
          const use = document.createElement("button");
          use.type = "button";
          use.className = "link mg-use";
          use.textContent = "Use these words";
          use.addEventListener("click", () => {
            input.value = s.text;
            list.textContent = "Copied from another card: change it so that it says what you mean.";
            input.focus();
          });
          item.append(words, use);
          items.appendChild(item);
        }
        list.appendChild(items);
      }, 350);
    });
  }

  // -- the interview as a chat ----------------------------------------------------------------------

  function chat(section) {
    const log = document.getElementById("chat-log");
    const input = document.getElementById("chat-input");
    const status = document.getElementById("chat-status");
    const contextId = Number(section.dataset.contextId);
    const turns = [{ role: "assistant", content: section.dataset.firstQuestion }];
    const show = (turn) => {
      const item = document.createElement("li");
      item.className = "mg-turn mg-" + turn.role;
      item.textContent = (turn.role === "assistant" ? "Interviewer: " : "You: ") + turn.content;
      log.appendChild(item);
    };
    show(turns[0]);
    const busy = async (what, work) => {
      status.textContent = what;
      try {
        await work();
        status.textContent = "";
      } catch (error) {
        status.textContent = "Not done: " + error.message;
      }
    };
    document.getElementById("chat-send").addEventListener("click", () => {
      const text = input.value.trim();
      if (!text) return;
      busy("Thinking…", async () => {
        turns.push({ role: "user", content: text });
        show(turns[turns.length - 1]);
        input.value = "";
        const answer = await postJSON("/v1/moralgraph/interview/reply", { context_id: contextId, messages: turns });
        turns.push({ role: "assistant", content: answer.reply });
        show(turns[turns.length - 1]);
      });
    });
    document.getElementById("chat-draft").addEventListener("click", () => {
      busy("Drafting your card…", async () => {
        if (!turns.some((t) => t.role === "user")) throw new Error("answer a question first");
        const card = await postJSON("/v1/moralgraph/interview/draft", { context_id: contextId, messages: turns });
        document.getElementById("card-title-input").value = card.title;
        document.getElementById("card-description").value = card.description;
        const fields = document.querySelectorAll('#card-form input[name="policy"]');
        fields.forEach((field, i) => { field.value = card.policies[i] || ""; });
        document.getElementById("drafted").value = "1";
        const notice = document.getElementById("drafted-notice");
        notice.hidden = false;
        notice.scrollIntoView({ block: "center" });
        document.getElementById("card-title-input").focus();
      });
    });
  }

  function storyDraft(form) {
    const button = document.getElementById("story-draft");
    const status = document.getElementById("story-status");
    if (!button) return;
    button.addEventListener("click", async () => {
      status.textContent = "Drafting…";
      try {
        const draft = await postJSON(form.dataset.draftUrl, {});
        document.getElementById("story-input").value = draft.text;
        document.getElementById("story-drafted").value = "1";
        status.textContent = "The model drafted this: read it and change it before you save it.";
      } catch (error) {
        status.textContent = "Not drafted: " + error.message;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("mg-graph");
    if (box) loadGraph(box);
    const form = document.getElementById("card-form");
    if (form) form.querySelectorAll("input[data-suggest]").forEach((input) => suggest(form, input));
    const section = document.getElementById("mg-chat");
    if (section) chat(section);
    const story = document.getElementById("story-form");
    if (story) storyDraft(story);
  });
})();
