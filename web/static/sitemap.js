// The site form's map. A click on France (or on one département's own map) fills the latitude and
// longitude fields by undoing the map's projection (core/reference/projection.py: degrees from a
// reference point, longitudes shrunk by the cosine of its latitude), shows a marker, and asks the
// server for the clicked département's map, for a finer placement. The fields stay the way to
// place a site from the keyboard; this script only helps the mouse and the finger.
(function () {
  "use strict";

  function field(name) {
    return document.getElementById("field-" + name);
  }

  // As the server reads a French number: spaces dropped, one decimal comma read as a point.
  function readNumber(input) {
    if (!input) return NaN;
    var raw = input.value.replace(/[\s\u00a0\u202f]/g, "");
    if (raw === "") return NaN;
    if (raw.split(",").length === 2 && raw.indexOf(".") < 0) raw = raw.replace(",", ".");
    return Number(raw);
  }

  function frame(svg) {
    return {
      latitude: Number(svg.dataset.latitude),
      longitude: Number(svg.dataset.longitude),
      scale: Number(svg.dataset.scale),
      shrink: Math.cos((Number(svg.dataset.latitude) * Math.PI) / 180),
    };
  }

  function project(svg, latitude, longitude) {
    var f = frame(svg);
    return { x: (longitude - f.longitude) * f.shrink * f.scale, y: (f.latitude - latitude) * f.scale };
  }

  function unproject(svg, x, y) {
    var f = frame(svg);
    return { latitude: f.latitude - y / f.scale, longitude: f.longitude + x / (f.shrink * f.scale) };
  }

  function showMarkers() {
    var latitude = readNumber(field("latitude"));
    var longitude = readNumber(field("longitude"));
    var known = isFinite(latitude) && isFinite(longitude);
    document.querySelectorAll("svg.site-map").forEach(function (svg) {
      var marker = svg.querySelector(".site-marker");
      if (!marker) return;
      if (!known) {
        marker.classList.add("is-hidden");
        return;
      }
      var point = project(svg, latitude, longitude);
      marker.setAttribute("cx", point.x.toFixed(1));
      marker.setAttribute("cy", point.y.toFixed(1));
      marker.classList.remove("is-hidden");
    });
  }

  // Scrolls the département's frame so that the marker, else the département's middle, is in
  // sight: drawn at 100 m per pixel, it is often larger than its frame.
  function centreZoom() {
    var zoom = document.querySelector("#site-map-zoom .site-map-frame");
    if (!zoom) return;
    var marker = zoom.querySelector(".site-marker:not(.is-hidden)");
    if (!marker) {
      zoom.scrollLeft = (zoom.scrollWidth - zoom.clientWidth) / 2;
      zoom.scrollTop = (zoom.scrollHeight - zoom.clientHeight) / 2;
      return;
    }
    var box = marker.getBoundingClientRect();
    var view = zoom.getBoundingClientRect();
    zoom.scrollLeft += box.left + box.width / 2 - (view.left + view.width / 2);
    zoom.scrollTop += box.top + box.height / 2 - (view.top + view.height / 2);
  }

  function setPosition(latitude, longitude, decimals) {
    var latitudeField = field("latitude");
    var longitudeField = field("longitude");
    if (!latitudeField || !longitudeField) return;
    latitudeField.value = latitude.toFixed(decimals);
    longitudeField.value = longitude.toFixed(decimals);
    showMarkers();
    // The département check (an HTMX request on the fields' row) listens for this.
    longitudeField.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function clickMap(svg, event) {
    var matrix = svg.getScreenCTM();
    if (!matrix) return;
    var point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    var local = point.matrixTransform(matrix.inverse());
    var position = unproject(svg, local.x, local.y);
    setPosition(position.latitude, position.longitude, Number(svg.dataset.decimals) || 5);
    var area = event.target.closest("path[data-code]");
    if (svg.dataset.kind === "overview" && area && window.htmx) {
      window.htmx.ajax("GET", "/sites/map/" + encodeURIComponent(area.dataset.code), {
        target: "#site-map-zoom",
        swap: "innerHTML",
      });
    }
  }

  function chooseAddress(button) {
    var commune = field("commune");
    if (commune && button.dataset.city) commune.value = button.dataset.city;
    setPosition(Number(button.dataset.latitude), Number(button.dataset.longitude), 6);
    var list = document.getElementById("address-suggestions");
    if (list) list.textContent = "";
    var latitudeField = field("latitude");
    if (latitudeField) latitudeField.focus();
  }

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) return;
    var svg = event.target.closest("svg.site-map");
    if (svg) {
      clickMap(svg, event);
      return;
    }
    var choice = event.target.closest("button.address-choice");
    if (choice) chooseAddress(choice);
  });

  document.addEventListener("input", function (event) {
    if (event.target === field("latitude") || event.target === field("longitude")) showMarkers();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "site-map-zoom") {
      showMarkers();
      centreZoom();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showMarkers);
  } else {
    showMarkers();
  }
})();
