"""Ukrainian: "1 травня 2015 р.", as Ukrainian texts write a date with the month's name (Django's own
format writes "01 травня 2015 р."); the other formats are Django's."""

DATE_FORMAT = "j E Y р."
