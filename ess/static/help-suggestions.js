// "Ich brauche Hilfe": articles matching the subject appear while typing. Without this script the form's
// "Suggest articles" button does the same on the server.
(function () {
  "use strict";
  var subject = document.getElementById("subject");
  var box = document.getElementById("suggestions");
  var topic = document.getElementById("topic");
  if (!subject || !box || !window.fetch) { return; }
  var timer = null;
  var last = "";

  function show(results) {
    var articles = results.filter(function (r) { return r.kind === "article"; }).slice(0, 5);
    box.textContent = "";
    if (!articles.length) { return; }
    var section = document.createElement("section");
    section.className = "card suggestions";
    var heading = document.createElement("h2");
    heading.textContent = box.getAttribute("data-heading");
    section.appendChild(heading);
    var list = document.createElement("ul");
    list.className = "article-list";
    articles.forEach(function (article) {
      var slug = article.url.split("/").pop();
      var params = new URLSearchParams({ slug: slug, topic: topic ? topic.value : "" });
      var link = document.createElement("a");
      link.href = box.getAttribute("data-track") + "?" + params.toString();
      link.textContent = article.title;
      var item = document.createElement("li");
      item.appendChild(link);
      list.appendChild(item);
    });
    section.appendChild(list);
    box.appendChild(section);
  }

  function lookUp() {
    var query = subject.value.trim();
    if (query.length < 3 || query === last) { return; }
    last = query;
    var params = new URLSearchParams({ q: query, lang: document.documentElement.lang || "de" });
    fetch(box.getAttribute("data-search") + "?" + params.toString(), { credentials: "omit" })
      .then(function (answer) { return answer.ok ? answer.json() : { results: [] }; })
      .then(function (found) { if (subject.value.trim() === query) { show(found.results || []); } })
      .catch(function () { /* the button still works */ });
  }

  subject.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(lookUp, 300);
  });
})();
