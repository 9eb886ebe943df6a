-- timestamps are read and written in UTC whatever the machine's zone
set TimeZone = 'UTC'
