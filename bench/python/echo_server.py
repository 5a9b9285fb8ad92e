"""The Python peers of coronet-bench's TCP echo workloads.

    python3 echo_server.py MODE

MODE is uvloop_protocol (uvloop, an asyncio.Protocol), uvloop_streams
(uvloop, asyncio streams) or asyncio_streams (the default loop, streams).
Listens on 127.0.0.1 (a port the system picks), prints the port on a line
and serves until it is killed. Exits with status 4 when uvloop is missing.
"""

import asyncio
import sys

READ_SIZE = 4096


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def echo_stream(reader, writer):
    try:
        while data := await reader.read(READ_SIZE):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def serve(mode):
    loop = asyncio.get_running_loop()
    if mode == "uvloop_protocol":
        server = await loop.create_server(EchoProtocol, "127.0.0.1", 0, backlog=1024)
    else:
        server = await asyncio.start_server(echo_stream, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def main():
    modes = ("uvloop_protocol", "uvloop_streams", "asyncio_streams")
    if len(sys.argv) != 2 or sys.argv[1] not in modes:
        sys.exit("usage: echo_server.py " + "|".join(modes))
    mode = sys.argv[1]
    if mode.startswith("uvloop"):
        try:
            import uvloop
        except ImportError:
            print("echo_server.py: no uvloop (python3-uvloop)", file=sys.stderr)
            sys.exit(4)
        uvloop.install()
    asyncio.run(serve(mode))


if __name__ == "__main__":
    main()
