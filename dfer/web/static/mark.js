// SDFE-LV marking page: the shown frame is the page's own frame counter, and the video is sought to
// the middle of that frame, so every onset/offset stored is exactly the frame on the screen.
"use strict";
(() => {
  const config = JSON.parse(document.getElementById("config").textContent);
  const video = document.getElementById("video");
  const timeline = document.getElementById("timeline");
  const cursor = document.getElementById("cursor");
  const status = document.getElementById("status");
  const api = `/api/markings/${encodeURIComponent(config.marking)}`;
  let fps = 25, frames = 1, frame = 0, onset = null, offset = null, editing = null, marks = [];

  function say(text) { status.textContent = text; }

  function go(target) {  // show frame `target` (paused)
    frame = Math.max(0, Math.min(frames - 1, target));
    video.pause();
    video.currentTime = (frame + 0.5) / fps;
    draw();
  }

  function draw() {
    document.getElementById("position").textContent = `frame ${frame} of ${frames} · ${(frame / fps).toFixed(2)} s`;
    document.getElementById("onset").textContent = onset === null ? "–" : onset;
    document.getElementById("offset").textContent = offset === null ? "–" : offset;
    cursor.style.left = `${(100 * frame) / frames}%`;
  }

  function render() {
    for (const old of timeline.querySelectorAll(".segment")) old.remove();
    const body = document.querySelector("#marks tbody");
    body.textContent = "";
    for (const mark of marks) {
      const segment = document.createElement("div");
      segment.className = "segment" + (mark.mark_id === editing ? " selected" : "");
      segment.style.left = `${(100 * mark.onset) / frames}%`;
      segment.style.width = `${Math.max(0.3, (100 * (mark.offset - mark.onset + 1)) / frames)}%`;
      segment.title = `${mark.onset}–${mark.offset} ${config.categories[mark.category]}`;
      segment.onclick = (event) => { event.stopPropagation(); edit(mark); };
      timeline.appendChild(segment);
      const row = body.insertRow();
      row.className = mark.mark_id === editing ? "selected" : "";
      row.insertCell().textContent = mark.onset;
      row.insertCell().textContent = mark.offset;
      row.insertCell().textContent = `${mark.category} ${config.categories[mark.category]}`;
      const remove = document.createElement("button");
      remove.textContent = "delete";
      remove.onclick = () => drop(mark);
      row.insertCell().appendChild(remove);
      row.onclick = (event) => { if (event.target !== remove) edit(mark); };
    }
    document.body.dataset.marks = String(marks.length);
  }

  function edit(mark) {
    editing = mark.mark_id; onset = mark.onset; offset = mark.offset;
    go(mark.onset); render(); say(`changing ${mark.onset}–${mark.offset}: set onset/offset, then a category`);
  }

  async function send(method, url, body) {
    const response = await fetch(url, {method, headers: {"Content-Type": "application/json"},
                                       body: body === undefined ? undefined : JSON.stringify(body)});
    const reply = await response.json();
    if (!response.ok) { say(`not saved: ${reply.error}`); return null; }
    return reply;
  }

  async function save(category) {
    if (onset === null || offset === null) { say("set the onset ([) and the offset (]) first"); return; }
    const body = {onset: Math.min(onset, offset), offset: Math.max(onset, offset), category};
    const reply = editing === null ? await send("POST", `${api}/marks`, body)
                                   : await send("PUT", `${api}/marks/${editing}`, body);
    if (reply === null) return;
    marks = marks.filter((m) => m.mark_id !== reply.mark_id).concat([reply]).sort((a, b) => a.onset - b.onset);
    say(`saved ${reply.onset}–${reply.offset} ${config.categories[category]}`);
    onset = offset = editing = null;
    render(); draw();
    document.body.dataset.saved = String(Number(document.body.dataset.saved || 0) + 1);
  }

  async function drop(mark) {
    if (await send("DELETE", `${api}/marks/${mark.mark_id}`) === null) return;
    marks = marks.filter((m) => m.mark_id !== mark.mark_id);
    if (editing === mark.mark_id) editing = null;
    render(); say(`deleted ${mark.onset}–${mark.offset}`);
  }

  video.addEventListener("timeupdate", () => {
    if (!video.paused) { frame = Math.min(frames - 1, Math.floor(video.currentTime * fps)); draw(); }
  });
  video.addEventListener("pause", () => {  // stop on the frame on the screen
    const shown = Math.min(frames - 1, Math.floor(video.currentTime * fps));
    if (shown !== frame) go(shown);
  });
  timeline.onclick = (event) => {
    const box = timeline.getBoundingClientRect();
    go(Math.floor(((event.clientX - box.left) / box.width) * frames));
  };
  for (const button of document.querySelectorAll("button.category")) {
    button.onclick = () => save(Number(button.dataset.category));
  }
  document.getElementById("play").onclick = () => (video.paused ? video.play() : video.pause());
  document.getElementById("speed").onchange = (event) => { video.playbackRate = Number(event.target.value); };
  document.getElementById("submit").onclick = async () => {
    if (await send("POST", `${api}/submit`) !== null) say("video submitted, thank you");
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.tagName === "SELECT") return;
    const step = event.shiftKey ? Math.round(fps) : 1;
    if (event.key === "ArrowRight") { event.preventDefault(); go(frame + step); }
    else if (event.key === "ArrowLeft") { event.preventDefault(); go(frame - step); }
    else if (event.key === " ") { event.preventDefault(); video.paused ? video.play() : video.pause(); }
    else if (event.key === "[") { onset = frame; draw(); }
    else if (event.key === "]") { offset = frame; draw(); }
    else if (/^[1-6]$/.test(event.key)) save(Number(event.key));
    else if (event.key === "Escape") { onset = offset = editing = null; render(); draw(); say(""); }
  });

  fetch(api).then((r) => r.json()).then((reply) => {
    fps = reply.fps; frames = reply.frames; marks = reply.marks;
    video.src = `/media/marking/${encodeURIComponent(config.marking)}`;
    video.addEventListener("loadeddata", () => { go(0); render(); document.body.dataset.ready = "true"; },
                           {once: true});
  });
})();
