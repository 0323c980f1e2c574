// Draws a lineage graph with the vendored Mermaid (wwwroot/lib/mermaid, MIT), loaded on first use
// so that other pages do not pay for it. strict: labels are sanitised and no script runs from the
// diagram; links are plain hrefs. Mermaid needs no eval, so the CSP stays script-src 'self'.
let loading;

function loadMermaid() {
  if (globalThis.mermaid) return Promise.resolve(globalThis.mermaid);
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = new URL('../lib/mermaid/mermaid.min.js', import.meta.url).href;
    script.onload = () => {
      globalThis.mermaid.initialize({
        startOnLoad: false,
        securityLevel: 'strict',
        theme: 'neutral',
        flowchart: { useMaxWidth: true },
      });
      resolve(globalThis.mermaid);
    };
    script.onerror = () => {
      loading = undefined;
      reject(new Error('The diagram library did not load.'));
    };
    document.head.appendChild(script);
  });
  return loading;
}

let counter = 0;

export async function render(element, source) {
  const mermaid = await loadMermaid();
  const { svg, bindFunctions } = await mermaid.render(`lineage-svg-${++counter}`, source);
  if (!element.isConnected) return;
  element.innerHTML = svg;
  if (bindFunctions) bindFunctions(element);
}
