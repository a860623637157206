def ical_feed(request, token):
    raise NotImplementedError
