"""`keepcab demo`: a simulated town driving the live server through its public interfaces.

A shell of its own: it uses the simulator's samplers and scenarios and drives
the server over HTTP and the console websocket, as a phone system, cars and
an operator would. Nothing imports it, and it imports nothing of `api`.
"""
