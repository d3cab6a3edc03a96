"""An upload handler that stops reading a request whose files together are over the service's size
limit (so nothing over it is ever kept, even by Django's temporary upload files), and says so to
the view. The limit counts the whole request, not each file (``DATA_UPLOAD_MAX_NUMBER_FILES`` is 1
anyway); the rest of the request is not read (the connection is closed)."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class SizeLimitHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0   # this request's file bytes so far, every file together

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.MAX_UPLOAD_BYTES:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None
