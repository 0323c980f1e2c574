// Uploads go straight from the browser to the streaming HTTP endpoint (not through the Blazor
// circuit), so there is no size cap from SignalR and the bytes are counted as they leave.

export function init(dropZone, input, dotNet) {
  const notify = () => {
    const file = input.files && input.files[0];
    dotNet.invokeMethodAsync('OnFileChosen', file ? file.name : null, file ? file.size : 0);
  };
  input.addEventListener('change', notify);
  const setDragging = on => dropZone.classList.toggle('dragging', on);
  dropZone.addEventListener('dragenter', e => { e.preventDefault(); setDragging(true); });
  dropZone.addEventListener('dragover', e => { e.preventDefault(); setDragging(true); });
  dropZone.addEventListener('dragleave', () => setDragging(false));
  dropZone.addEventListener('drop', e => {
    e.preventDefault();
    setDragging(false);
    if (e.dataTransfer && e.dataTransfer.files.length > 0) {
      input.files = e.dataTransfer.files;
      notify();
    }
  });
}

export function upload(input, url, metadataJson, antiforgeryToken, dotNet) {
  const file = input.files && input.files[0];
  if (!file) {
    dotNet.invokeMethodAsync('OnUploadFinished', 0, 'No file chosen.');
    return;
  }
  const form = new FormData();
  // Metadata first: the server checks it before it receives the (possibly large) file.
  if (metadataJson) {
    form.append('metadata', new Blob([metadataJson], { type: 'application/json' }));
  }
  form.append('file', file, file.name);

  const xhr = new XMLHttpRequest();
  let lastReport = 0;
  xhr.upload.onprogress = e => {
    const now = performance.now();
    if (e.lengthComputable && (now - lastReport > 100 || e.loaded === e.total)) {
      lastReport = now;
      dotNet.invokeMethodAsync('OnProgress', e.loaded, e.total);
    }
  };
  xhr.onload = () => dotNet.invokeMethodAsync('OnUploadFinished', xhr.status, xhr.responseText);
  xhr.onerror = () => dotNet.invokeMethodAsync('OnUploadFinished', 0, 'The connection to the server was lost during the upload.');
  xhr.onabort = () => dotNet.invokeMethodAsync('OnUploadFinished', 0, 'The upload was cancelled.');
  xhr.open('POST', url);
  xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
  if (antiforgeryToken) {
    xhr.setRequestHeader('X-CSRF-TOKEN', antiforgeryToken);
  }
  xhr.send(form);
}
