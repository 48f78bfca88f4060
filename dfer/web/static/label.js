// Labelling page of one set (copy): one clip at a time; each answer is saved the moment it is given.
"use strict";
(() => {
  const config = JSON.parse(document.getElementById("config").textContent);
  const video = document.getElementById("clip");
  const progress = document.getElementById("progress");
  const status = document.getElementById("status");
  const submit = document.getElementById("submit");
  let tasks = [];
  let current = 0;

  function say(text) { status.textContent = text; }

  function show(index) {
    current = Math.max(0, Math.min(tasks.length - 1, index));
    const task = tasks[current];
    video.src = `/media/${encodeURIComponent(task.task_id)}`;
    video.playbackRate = Number(document.getElementById("speed").value);
    video.play().catch(() => {});
    for (const button of document.querySelectorAll("button.word")) {
      button.classList.toggle("chosen", button.dataset.word === task.word);
    }
    const answered = tasks.filter((t) => t.word !== null).length;
    progress.textContent = `clip ${current + 1} of ${tasks.length} · ${answered} / ${tasks.length} answered`;
    submit.disabled = answered < tasks.length;
  }

  async function answer(word) {
    const task = tasks[current];
    say("saving…");
    const response = await fetch(`/api/answers/${encodeURIComponent(task.task_id)}`, {
      method: "PUT", headers: {"Content-Type": "application/json"}, body: JSON.stringify({word}),
    });
    const reply = await response.json();
    if (!response.ok) { say(`not saved: ${reply.error}`); return; }
    task.word = word;
    say(`saved “${word}”`);
    document.body.dataset.saved = String(Number(document.body.dataset.saved || 0) + 1);
    show(current + 1 < tasks.length ? current + 1 : current);
  }

  function step(frames) {  // whole frames of the clip's own rate (its ingested copy's)
    if (video.readyState < 1) {  // no duration yet: step once the clip's metadata is in
      video.addEventListener("loadedmetadata", () => step(frames), {once: true});
      return;
    }
    const fps = tasks[current].fps;
    const shown = Math.floor(video.currentTime * fps + 1e-6);
    video.pause();
    video.currentTime = Math.max(0, Math.min((video.duration || 0) - 0.5 / fps, (shown + frames + 0.5) / fps));
  }

  document.querySelector(".words").addEventListener("click", (event) => {
    const button = event.target.closest("button.word");
    if (button) answer(button.dataset.word);
  });
  document.getElementById("previous").onclick = () => show(current - 1);
  document.getElementById("next").onclick = () => show(current + 1);
  document.getElementById("back").onclick = () => step(-1);
  document.getElementById("forward").onclick = () => step(1);
  document.getElementById("play").onclick = () => (video.paused ? video.play() : video.pause());
  document.getElementById("speed").onchange = (event) => { video.playbackRate = Number(event.target.value); };
  submit.onclick = async () => {
    const response = await fetch(`/api/copies/${encodeURIComponent(config.copy)}/submit`, {method: "POST"});
    const reply = await response.json();
    say(response.ok ? "set submitted, thank you" : `not submitted: ${reply.error}`);
    if (response.ok) submit.disabled = true;
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.tagName === "SELECT") return;
    const key = event.key.toLowerCase();
    if (key in config.keys) { event.preventDefault(); answer(config.keys[key]); }
    else if (key === "arrowright" || key === "enter") show(current + 1);
    else if (key === "arrowleft") show(current - 1);
    else if (key === ",") step(-1);
    else if (key === ".") step(1);
    else if (key === " ") { event.preventDefault(); video.paused ? video.play() : video.pause(); }
  });

  fetch(`/api/copies/${encodeURIComponent(config.copy)}/tasks`).then((r) => r.json()).then((reply) => {
    tasks = reply.tasks;
    const first = tasks.findIndex((t) => t.word === null);
    show(first < 0 ? 0 : first);
    document.body.dataset.ready = "true";
  });
})();
