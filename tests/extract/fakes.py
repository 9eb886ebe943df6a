"""Loopback fake APIs: a real threaded HTTP server per platform, serving generated creators.

Each fake serves the real paths and response shapes of its platform from a small generated
world, records every request, and injects faults on demand (status codes with bodies and
headers, dropped connections, truncated bodies, slow answers).
"""

from __future__ import annotations

import base64
import json
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any

    @property
    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None


@dataclass
class Fault:
    """What to do instead of answering: a status with a body, or a broken connection."""

    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    truncate: bool = False
    delay: float = 0.0


@dataclass
class Rule:
    match: Callable[[Request], bool]
    fault: Fault
    times: int  # how often it still fires; negative: always
    fired: int = 0


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeApi:
    """Base: routing, request log, faults. Subclasses implement ``route``."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[Request] = []
        self.rules: list[Rule] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # ---- lifecycle

    def start(self) -> str:
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                app.dispatch(self)

            def do_POST(self) -> None:
                app.dispatch(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # ---- faults

    def inject(self, fault: Fault, *, when: Callable[[Request], bool], times: int = 1) -> Rule:
        rule = Rule(when, fault, times)
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def calls(self, path_part: str) -> list[Request]:
        return [r for r in self.requests if path_part in r.path]

    # ---- serving

    def dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        request = Request(
            method=handler.command,
            path=parts.path,
            query={k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=_body(raw, handler.headers.get("Content-Type") or ""),
        )
        with self.lock:
            self.requests.append(request)
            rule = next(
                (r for r in self.rules if r.times != 0 and r.match(request)),
                None,
            )
            if rule is not None:
                rule.times -= 1
                rule.fired += 1
        if rule is not None:
            fault = rule.fault
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            reply = Reply(fault.status, fault.body, dict(fault.headers))
            if fault.truncate:
                reply = self.route(request)
                self.send(handler, reply, truncate=True)
                return
        else:
            reply = self.route(request)
        self.send(handler, reply)

    def send(self, handler: BaseHTTPRequestHandler, reply: Reply, truncate: bool = False) -> None:
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        handler.send_response(reply.status)
        handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if truncate:
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.wfile.write(body)

    def route(self, request: Request) -> Reply:
        raise NotImplementedError


def _body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    return json.loads(raw)


class OAuthEndpoint:
    """An OAuth 2 token endpoint: refresh_token and client_credentials grants, form bodies.

    Each refresh issues a new access token, which becomes the only one the fake API accepts
    (the old one has expired); with ``rotate``, it also issues a new refresh token and the
    one sent stops working, as TikTok's does.
    """

    def __init__(
        self,
        api: FakeApi,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        id_field: str = "client_id",
        token_prefix: str = "",
        expires_in: int = 86400,
        refresh_expires_in: int | None = 365 * 86400,
        rotate: bool = False,
    ) -> None:
        self.api = api
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.id_field = id_field
        self.token_prefix = token_prefix
        self.expires_in = expires_in
        self.refresh_expires_in = refresh_expires_in
        self.rotate = rotate
        self.issued: list[str] = []
        self.refresh_tokens: list[str] = [refresh_token]

    def answer(self, request: Request) -> Reply:
        form = request.body if isinstance(request.body, dict) else {}
        refused = {
            "error": "invalid_grant",
            "error_description": "Refresh token is invalid or expired.",
            "log_id": "20261121060000",
        }
        if form.get(self.id_field) != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return Reply(401, {**refused, "error": "invalid_client"})
        grant = form.get("grant_type")
        if grant == "refresh_token" and form.get("refresh_token") != self.refresh_token:
            return Reply(400, refused)
        if grant not in ("refresh_token", "client_credentials"):
            return Reply(400, {**refused, "error": "unsupported_grant_type"})
        number = len(self.issued) + 1
        token = f"{self.token_prefix}FRESHaccessTOKEN{number:04d}xyz"
        self.issued.append(token)
        self.api.token = token
        body: dict[str, Any] = {
            "access_token": token,
            "expires_in": self.expires_in,
            "token_type": "Bearer",
        }
        if grant == "refresh_token":
            if self.rotate:
                self.refresh_token = f"ROTATEDrefreshTOKEN{number:04d}abc"
                self.refresh_tokens.append(self.refresh_token)
            body["refresh_token"] = self.refresh_token
            if self.refresh_expires_in is not None:
                body["refresh_expires_in"] = self.refresh_expires_in
        return Reply(200, body)


def _stamp(day: date, seconds: int) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=seconds)


# ---- Instagram Graph API


class FakeInstagram(FakeApi):
    """``GET /v21.0/me`` and ``GET /v21.0/{ig_user_id}?fields=business_discovery...``.

    With ``gaps``, every other page is empty (privacy filtering) and still has a next link.
    With ``repeat_cursor``, the second page hands back the cursor it was asked with.
    """

    MY_ID = "17841405309211844"

    def __init__(self, token: str, *, accounts: int = 3, media: int = 7, seed: int = 1) -> None:
        super().__init__(token)
        rng = random.Random(seed)
        self.gaps = True
        self.repeat_cursor = False
        # what debug_token reports: a long-lived token with 50 days left by default
        self.token_expires_at: datetime | None = NOW + timedelta(days=50)
        self.token_valid = True
        self.app_token: str | None = None
        self.accounts: dict[str, dict[str, Any]] = {}
        for n in range(accounts):
            username = f"creator_{n}"
            items = []
            for m in range(media + n):
                published = _stamp(DAY - timedelta(days=m * 2), 3600 * (n + 1))
                item: dict[str, Any] = {
                    "id": f"178{n:02d}{m:012d}",
                    "caption": f"post {m} of {username} ✨",
                    "media_type": "VIDEO" if m % 3 == 0 else "IMAGE",
                    "media_product_type": "REELS" if m % 3 == 0 else "FEED",
                    "timestamp": published.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                    "comments_count": rng.randint(0, 90),
                    "permalink": f"https://www.instagram.com/p/P{n}x{m}/",
                }
                if m != 1:  # one post hides its likes
                    item["like_count"] = rng.randint(10, 5000)
                items.append(item)
            self.accounts[username] = {
                "id": f"1784140{n:010d}",
                "username": username,
                "name": f"Creator {n}",
                "followers_count": 5000 + 1000 * n,
                "follows_count": 100 + n,
                "media_count": len(items),
                "media": items,
            }

    def route(self, request: Request) -> Reply:
        if request.path == "/v21.0/debug_token":
            return self._debug(request)
        if request.bearer != self.token:
            return Reply(
                400,
                {
                    "error": {
                        "message": "Error validating access token: Session has expired.",
                        "type": "OAuthException",
                        "code": 190,
                        "error_subcode": 463,
                        "fbtrace_id": "AbCdEf",
                    }
                },
            )
        if request.path == "/v21.0/me":
            return Reply(200, {"id": self.MY_ID})
        if request.path != f"/v21.0/{self.MY_ID}":
            return Reply(404, {"error": {"message": "Unknown path", "code": 803}})
        fields = request.query.get("fields", "")
        import re

        found = re.search(r"business_discovery\.username\(([^)]+)\)\{(.*)\}$", fields)
        if not found or found.group(1) not in self.accounts:
            return Reply(
                400, {"error": {"message": "(#110) Invalid user id", "code": 110, "type": "x"}}
            )
        account = self.accounts[found.group(1)]
        inner = found.group(2)
        after = re.search(r"media\.after\(([^)]*)\)", inner)
        limit = int((re.search(r"\.limit\((\d+)\)", inner) or [0, 25])[1])
        cursor = after.group(1) if after else None
        offset, gap = self._decode(cursor)
        node: dict[str, Any] = {"id": account["id"]}
        for name in ("username", "name", "followers_count", "follows_count", "media_count"):
            if re.search(rf"(^|[{{,]){name}([,{{}}]|$)", inner):
                node[name] = account[name]
        media = account["media"]
        if self.gaps and offset > 0 and not gap:
            data: list[Any] = []
            following = self._encode(offset, True)
        else:
            data = media[offset : offset + limit]
            following = self._encode(offset + limit, False) if offset + limit < len(media) else None
        if self.repeat_cursor and cursor is not None:
            following = cursor
        block: dict[str, Any] = {"data": data}
        if following is not None:
            block["paging"] = {
                "cursors": {"after": following},
                "next": f"https://graph.facebook.com/v21.0/{self.MY_ID}?fields=..."
                f"media.after({following})&access_token={self.token}",
            }
        elif data:
            block["paging"] = {"cursors": {"after": self._encode(offset + len(data), False)}}
        node["media"] = block
        return Reply(200, {"business_discovery": node, "id": self.MY_ID})

    def _debug(self, request: Request) -> Reply:
        """``debug_token``: asked with the app token, or with a valid token of the app."""
        expired = {
            "error": {
                "message": "Error validating access token: Session has expired.",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 463,
            }
        }
        asker = request.bearer
        if asker != self.app_token and (asker != self.token or not self.token_valid):
            return Reply(400, expired)
        valid = request.query.get("input_token") == self.token and self.token_valid
        data: dict[str, Any] = {
            "app_id": "1234567890",
            "type": "USER",
            "application": "creator-metrics",
            "is_valid": valid,
            "expires_at": int(self.token_expires_at.timestamp()) if self.token_expires_at else 0,
            "data_access_expires_at": int((NOW + timedelta(days=90)).timestamp()),
            "scopes": ["instagram_basic", "pages_read_engagement"],
            "user_id": "10215241773831025",
        }
        if not valid:
            data["error"] = {"code": 190, "message": "Session has expired", "subcode": 463}
        return Reply(200, {"data": data})

    @staticmethod
    def _encode(offset: int, gap: bool) -> str:
        return base64.b64encode(f"{'g' if gap else 'o'}{offset}".encode()).decode().rstrip("=")

    @staticmethod
    def _decode(cursor: str | None) -> tuple[int, bool]:
        if not cursor:
            return 0, False
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text[1:]), text[0] == "g"


# ---- YouTube Data API v3


class FakeYouTube(FakeApi):
    """``channels``, ``playlistItems`` and ``videos`` under ``/youtube/v3/``, keyed by ``key=``."""

    def __init__(self, token: str, *, channels: int = 3, videos: int = 8, seed: int = 2) -> None:
        super().__init__(token)
        rng = random.Random(seed)
        self.channels: dict[str, dict[str, Any]] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.key_expired = False
        for n in range(channels):
            channel_id = "UC" + f"{n:04d}".rjust(22, "x")
            uploads = []
            for m in range(videos + n):
                video_id = f"v{n:03d}{m:07d}"
                published = _stamp(DAY - timedelta(days=m), 7200 + n)
                statistics = {"viewCount": str(rng.randint(100, 90000))}
                if m != 2:
                    statistics["likeCount"] = str(rng.randint(1, 900))
                if m != 3:
                    statistics["commentCount"] = str(rng.randint(0, 90))
                self.videos[video_id] = {
                    "kind": "youtube#video",
                    "id": video_id,
                    "snippet": {
                        "publishedAt": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "channelId": channel_id,
                        "title": f"video {m} of channel {n}",
                    },
                    "contentDetails": {"duration": f"PT{m + 1}M{n}S"},
                    "statistics": statistics,
                }
                uploads.append(video_id)
            self.channels[channel_id] = {
                "kind": "youtube#channel",
                "id": channel_id,
                "snippet": {
                    "title": f"Channel {n}",
                    "customUrl": f"@channel{n}",
                    "publishedAt": "2019-03-04T05:06:07Z",
                },
                "contentDetails": {"relatedPlaylists": {"uploads": "UU" + channel_id[2:]}},
                "statistics": {
                    "viewCount": str(100000 * (n + 1)),
                    "subscriberCount": str(1200 * (n + 1)),
                    "hiddenSubscriberCount": False,
                    "videoCount": str(len(uploads)),
                },
                "_uploads": uploads,
            }

    @staticmethod
    def error(status: int, reason: str, message: str, domain: str = "global") -> dict[str, Any]:
        return {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": domain, "reason": reason}],
            }
        }

    def route(self, request: Request) -> Reply:
        if self.key_expired:
            return Reply(
                400, self.error(400, "badRequest", "API key expired. Please renew the API key.")
            )
        if request.query.get("key") != self.token:
            return Reply(
                400,
                self.error(400, "keyInvalid", "API key not valid. Please pass a valid API key."),
            )
        resource = request.path.removeprefix("/youtube/v3/")
        if resource == "channels":
            if "forHandle" in request.query:
                handle = request.query["forHandle"]
                items = [c for c in self.channels.values() if c["snippet"]["customUrl"] == handle]
            else:
                ids = request.query.get("id", "").split(",")
                if len(ids) > 50:
                    return Reply(400, self.error(400, "badRequest", "too many ids"))
                items = [self.channels[i] for i in ids if i in self.channels]
            shown = [{k: v for k, v in c.items() if not k.startswith("_")} for c in items]
            return Reply(
                200,
                {
                    "kind": "youtube#channelListResponse",
                    "pageInfo": {"totalResults": len(shown), "resultsPerPage": 5},
                    "items": shown,
                },
            )
        if resource == "playlistItems":
            playlist = request.query["playlistId"]
            channel = self.channels.get("UC" + playlist[2:])
            if channel is None:
                return Reply(
                    404, self.error(404, "playlistNotFound", "not found", "youtube.playlistItem")
                )
            size = int(request.query.get("maxResults", "5"))
            offset = int(request.query.get("pageToken", "P0")[1:])
            ids = channel["_uploads"][offset : offset + size]
            body: dict[str, Any] = {
                "kind": "youtube#playlistItemListResponse",
                "pageInfo": {"totalResults": len(channel["_uploads"]), "resultsPerPage": size},
                "items": [
                    {
                        "kind": "youtube#playlistItem",
                        "id": f"item-{vid}",
                        "snippet": {
                            "publishedAt": self.videos[vid]["snippet"]["publishedAt"],
                            "channelId": channel["id"],
                            "title": self.videos[vid]["snippet"]["title"],
                            "videoOwnerChannelId": channel["id"],
                            "resourceId": {"kind": "youtube#video", "videoId": vid},
                        },
                        "contentDetails": {
                            "videoId": vid,
                            "videoPublishedAt": self.videos[vid]["snippet"]["publishedAt"],
                        },
                    }
                    for vid in ids
                ],
            }
            if offset + size < len(channel["_uploads"]):
                body["nextPageToken"] = f"P{offset + size}"
            return Reply(200, body)
        if resource == "videos":
            ids = request.query.get("id", "").split(",")
            if len(ids) > 50:
                return Reply(400, self.error(400, "badRequest", "too many ids"))
            return Reply(
                200,
                {
                    "kind": "youtube#videoListResponse",
                    "items": [self.videos[i] for i in ids if i in self.videos],
                },
            )
        return Reply(404, self.error(404, "notFound", "no such resource"))


QUOTA_EXCEEDED = FakeYouTube.error(
    403,
    "quotaExceeded",
    'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
    'getting-started#quota">quota</a>.',
    "youtube.quota",
)


# ---- TikTok API v2


def tiktok_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "log_id": "202611210600000000"}}


class FakeTikTok(FakeApi):
    """Research ``user/info`` + ``video/query`` and Display ``user/info`` + ``video/list``.

    ``max_window_days`` makes wider video queries fail with HTTP 500 (they do, in the wild);
    ``expire_first_search`` expires each user's first search_id after its first page.
    """

    def __init__(
        self,
        token: str,
        *,
        users: int = 3,
        videos: int = 9,
        seed: int = 3,
        display_user: str = "creator_0",
    ) -> None:
        super().__init__(token)
        rng = random.Random(seed)
        self.max_window_days: int | None = None
        self.expire_first_search = False
        self.display_user = display_user
        self.oauth: OAuthEndpoint | None = None
        self.users: dict[str, dict[str, Any]] = {}
        self.searches: dict[str, dict[str, Any]] = {}
        self.expired: set[str] = set()
        self.expired_users: set[str] = set()
        for n in range(users):
            username = f"creator_{n}"
            items = []
            for m in range(videos + 2 * n):
                created = _stamp(DAY - timedelta(days=m * 3 % 29), (3000 * (m + 1) + n) % 86000)
                items.append(
                    {
                        "id": 7_300_000_000_000_000_000 + n * 1_000_000 + m,
                        "create_time": int(created.timestamp()),
                        "username": username,
                        "region_code": "US",
                        "video_description": f"clip {m} by {username} #fyp",
                        "like_count": rng.randint(0, 9000),
                        "comment_count": rng.randint(0, 300),
                        "share_count": rng.randint(0, 100),
                        "view_count": rng.randint(1000, 900000),
                        "favourites_count": rng.randint(0, 50),
                        "video_duration": 10 + m,
                    }
                )
            items.sort(key=lambda v: v["create_time"], reverse=True)
            self.users[username] = {
                "display_name": f"Creator {n}",
                "bio_description": "bio",
                "is_verified": False,
                "follower_count": 7000 + 11 * n,
                "following_count": 40 + n,
                "likes_count": 100000 + n,
                "video_count": len(items),
                "videos": items,
            }

    def route(self, request: Request) -> Reply:
        if request.path == "/v2/oauth/token/" and self.oauth is not None:
            return self.oauth.answer(request)
        if request.bearer != self.token:
            return Reply(
                401,
                tiktok_error(
                    "access_token_invalid",
                    "The access token is invalid or not found in the request.",
                ),
            )
        ok = tiktok_error("ok", "")
        if request.path == "/v2/research/user/info/":
            user = self.users.get((request.body or {}).get("username"))
            if user is None:
                return Reply(400, tiktok_error("invalid_params", "user not found"))
            data = {k: v for k, v in user.items() if k != "videos"}
            return Reply(200, {"data": data, **ok})
        if request.path == "/v2/research/video/query/":
            return self._query(request.body or {})
        if request.path == "/v2/user/info/":
            user = self.users[self.display_user]
            data = {k: v for k, v in user.items() if k != "videos"}
            return Reply(200, {"data": {"user": {"username": self.display_user, **data}}, **ok})
        if request.path == "/v2/video/list/":
            return self._list(request.body or {})
        return Reply(404, tiktok_error("invalid_params", "no such path"))

    def _query(self, body: dict[str, Any]) -> Reply:
        ok = tiktok_error("ok", "")
        username = body["query"]["and"][0]["field_values"][0]
        start = datetime.strptime(body["start_date"], "%Y%m%d").date()
        end = datetime.strptime(body["end_date"], "%Y%m%d").date()
        count = int(body.get("max_count", 20))
        if count > 100 or (end - start).days + 1 > 30 or end < start:
            return Reply(400, tiktok_error("invalid_params", "Invalid count, cursor or dates"))
        if self.max_window_days and (end - start).days + 1 > self.max_window_days:
            return Reply(500, tiktok_error("internal_error", "Something went wrong."))
        search_id = body.get("search_id")
        cursor = int(body.get("cursor") or 0)
        if search_id:
            if search_id in self.expired or search_id not in self.searches:
                return Reply(
                    400,
                    tiktok_error("invalid_params", f"Search Id {search_id} is invalid or expired"),
                )
        else:
            search_id = str(7_400_000_000_000_000_000 + len(self.searches))
            self.searches[search_id] = {"username": username}
        videos = [
            v
            for v in self.users[username]["videos"]
            if start <= datetime.fromtimestamp(v["create_time"], UTC).date() <= end
        ]
        page = videos[cursor : cursor + count]
        more = cursor + count < len(videos)
        if self.expire_first_search and more and username not in self.expired_users:
            self.expired_users.add(username)
            self.expired.add(search_id)
        data = {
            "videos": page,
            "cursor": cursor + len(page),
            "has_more": more,
            "search_id": search_id,
        }
        return Reply(200, {"data": data, **ok})

    def _list(self, body: dict[str, Any]) -> Reply:
        ok = tiktok_error("ok", "")
        count = int(body.get("max_count", 10))
        if count > 20:
            return Reply(400, tiktok_error("invalid_params", "max_count must be at most 20"))
        before = int(body.get("cursor") or 2**62)
        videos = [
            {
                "id": str(v["id"]),
                "create_time": v["create_time"],
                "title": v["video_description"],
                "video_description": v["video_description"],
                "duration": v["video_duration"],
                "share_url": f"https://www.tiktok.com/@{self.display_user}/video/{v['id']}",
                "like_count": v["like_count"],
                "comment_count": v["comment_count"],
                "share_count": v["share_count"],
                "view_count": v["view_count"],
            }
            for v in self.users[self.display_user]["videos"]
            if v["create_time"] * 1000 < before
        ]
        page = videos[:count]
        more = len(videos) > count
        cursor = page[-1]["create_time"] * 1000 if page else before
        data = {"videos": page, "cursor": cursor, "has_more": more}
        return Reply(200, {"data": data, **ok})


# ---- Snapchat Public Profile API


class FakeSnapchat(FakeApi):
    """``/public/v1/public_profiles/{id}`` and ``/v1/public_profiles/{id}/stats`` (DAY)."""

    def __init__(self, token: str, *, profiles: int = 3, seed: int = 4) -> None:
        super().__init__(token)
        rng = random.Random(seed)
        self.oauth: OAuthEndpoint | None = None
        self.profiles: dict[str, dict[str, Any]] = {}
        for n in range(profiles):
            profile_id = f"4e1c7a52-9d0b-4f3e-8a61-{n:012d}"
            daily = {}
            subscribers = 20000 + 500 * n
            for back in range(120, -1, -1):
                day = DAY - timedelta(days=back)
                subscribers += rng.randint(-5, 40)
                daily[day] = {
                    "SUBSCRIBERS": subscribers,
                    "VIEWS": rng.randint(1000, 50000),
                    "SHARES": rng.randint(0, 60),
                }
            self.profiles[profile_id] = {
                "id": profile_id,
                "display_name": f"Snap Creator {n}",
                "snap_user_name": f"snapper.{n}",
                "profile_tier": "TIER_PUBLIC",
                "subscriber_count": str(daily[DAY]["SUBSCRIBERS"]),
                "_daily": daily,
            }

    def route(self, request: Request) -> Reply:
        if request.path == "/login/oauth2/access_token" and self.oauth is not None:
            return self.oauth.answer(request)
        if request.bearer != self.token:
            return Reply(
                401,
                {
                    "request_status": "ERROR",
                    "request_id": "r-1",
                    "debug_message": "Unauthorized: the access token has expired",
                    "display_message": "We're sorry, something went wrong.",
                    "error_code": "E1003",
                },
            )
        parts = request.path.strip("/").split("/")
        if parts[:3] == ["public", "v1", "public_profiles"] and len(parts) == 4:
            profile = self.profiles.get(parts[3])
            entry: dict[str, Any] = (
                {
                    "sub_request_status": "SUCCESS",
                    "public_profile": {k: v for k, v in profile.items() if not k.startswith("_")},
                }
                if profile
                else {"sub_request_status": "ERROR", "sub_request_error_reason": "not found"}
            )
            return Reply(
                200, {"request_status": "SUCCESS", "request_id": "r-2", "public_profiles": [entry]}
            )
        if parts[:2] == ["v1", "public_profiles"] and len(parts) == 4 and parts[3] == "stats":
            profile = self.profiles[parts[2]]
            start = datetime.fromisoformat(request.query["startTime"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(request.query["endTime"].replace("Z", "+00:00"))
            if (end - start).days > 90 or end <= start:
                return Reply(
                    400,
                    {
                        "request_status": "ERROR",
                        "debug_message": "time range must be within 90 days",
                    },
                )
            fields = request.query["fields"].split(",")
            series = []
            day = start.date()
            while day < end.date():
                values = profile["_daily"][day]
                series.append(
                    {
                        "start_time": f"{day.isoformat()}T00:00:00.000Z",
                        "end_time": f"{(day + timedelta(days=1)).isoformat()}T00:00:00.000Z",
                        "stats": {f: str(values[f]) for f in fields if f in values},
                    }
                )
                day += timedelta(days=1)
            return Reply(
                200,
                {
                    "request_status": "SUCCESS",
                    "request_id": "r-3",
                    "timeseries_stats": [
                        {
                            "sub_request_status": "SUCCESS",
                            "timeseries_stat": {
                                "id": profile["id"],
                                "type": "PROFILE",
                                "granularity": "DAY",
                                "start_time": request.query["startTime"],
                                "end_time": request.query["endTime"],
                                "timeseries": series,
                            },
                        }
                    ],
                },
            )
        return Reply(404, {"request_status": "ERROR", "debug_message": "not found"})
