# The message a bus backend delivers after it reconnected: "you may have missed hints, re-read".
RESYNC = "resync"
