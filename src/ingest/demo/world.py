"""A simulated population of creators, deterministic from a seed, that demo writers render.

Followers are log-normal (a few hundred to several million), grow daily with noise and the odd
bought-follower spike; posts come at each creator's cadence with interactions that accrue over
the first days after publishing, and a few go viral. Some creators hide counts.

What differs between platforms (how many creators are on one, how often they post, what their
ids look like, and the files rendered from the world) is each platform's ``DemoPlatform``.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from ingest.demo.files import DemoFile

# small accounts engage more: engagement falls with audience size (mission's premise)
BASE_ENGAGEMENT = 0.06
ENGAGEMENT_SIZE_EXPONENT = -0.22

# share of creators with an account on a platform that does not say (most people are on two
# or three platforms)
DEFAULT_PRESENCE = 0.75
# posts per day, drawn uniformly per account
DEFAULT_CADENCE = (0.15, 0.8)


def random_account_id(rng: random.Random, handle: str) -> str:
    """Ten lower-case letters: account ids for a platform whose demo gives no rule of its own."""
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(10))


def random_post_id(rng: random.Random) -> str:
    """32 hexadecimal digits: post ids for a platform whose demo gives no rule of its own."""
    return "".join(rng.choice("0123456789abcdef") for _ in range(32))


@dataclass
class Post:
    post_id: str
    published_at: datetime
    title: str
    duration_seconds: int
    final_views: int
    like_rate: float
    comment_rate: float
    share_rate: float
    save_rate: float

    def views_on(self, day: date) -> int:
        """Cumulative views at the end of ``day``: most arrive in the first days."""
        age = (day - self.published_at.date()).days + 1
        if age <= 0:
            return 0
        return int(self.final_views * (1 - math.exp(-age / 2.5)))

    def counts_on(self, day: date) -> dict[str, int]:
        views = self.views_on(day)
        likes = int(views * self.like_rate)
        return {
            "views": views,
            "likes": likes,
            "comments": int(likes * self.comment_rate),
            "shares": int(likes * self.share_rate),
            "saves": int(likes * self.save_rate),
        }


@dataclass
class Account:
    platform: str
    account_id: str
    handle: str
    display_name: str
    created_at: datetime
    followers_by_day: dict[date, int]
    following: int
    posts: list[Post] = field(default_factory=list)
    followers_hidden: bool = False
    likes_hidden: bool = False
    comments_disabled: bool = False

    def posts_until(self, day: date) -> list[Post]:
        return [p for p in self.posts if p.published_at.date() <= day]

    def daily_counts(self, day: date) -> dict[str, int]:
        """What all posts gained on ``day``: the account's daily views, likes, comments, ..."""
        before = day - timedelta(days=1)
        totals = dict.fromkeys(("views", "likes", "comments", "shares", "saves"), 0)
        for post in self.posts_until(day):
            now, then = post.counts_on(day), post.counts_on(before)
            for key in totals:
                totals[key] += now[key] - then[key]
        return totals

    def follow_flows(self, day: date) -> tuple[int, int]:
        """Followers gained and lost on ``day``; their difference is the day's net change."""
        previous = self.followers_by_day.get(day - timedelta(days=1), self.followers_by_day[day])
        net = self.followers_by_day[day] - previous
        # some followers leave every day; a seeded draw per account-day keeps it reproducible
        churn = random.Random(f"{self.account_id}/{day.isoformat()}").uniform(0.0002, 0.0015)
        lost = int(self.followers_by_day[day] * churn)
        return max(net, 0) + lost, lost + max(-net, 0)


@dataclass
class Creator:
    creator_id: str
    name: str
    accounts: dict[str, Account]


@dataclass
class World:
    start: date
    end: date
    creators: list[Creator]

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def accounts(self, platform: str) -> list[Account]:
        return [c.accounts[platform] for c in self.creators if platform in c.accounts]


@dataclass(frozen=True)
class DemoPlatform:
    """A platform's part of the demo, published as ``Platform.demo`` (``"module:attribute"``).

    Args:
        write: renders the world's accounts on the platform as the files its pulls and exports
            give, under ``out/<platform>/``.
        order: where the platform's accounts are drawn in the world, and its files written. The
            world's random draws follow this order: changing it changes a seed's files.
        presence: the share of creators with an account on the platform.
        cadence: posts per day, drawn uniformly per account, between these two.
        account_id: a new account id, from the world's random draws and the account's handle.
        post_id: a new post id, from the world's random draws.
    """

    write: Callable[[World, Path], list[DemoFile]]
    order: int = 100
    presence: float = DEFAULT_PRESENCE
    cadence: tuple[float, float] = DEFAULT_CADENCE
    account_id: Callable[[random.Random, str], str] = random_account_id
    post_id: Callable[[random.Random], str] = random_post_id


_FIRST = ["Ana", "Bo", "Chen", "Dara", "Eli", "Fatou", "Gus", "Hana", "Ivo", "Jade", "Kofi", "Lea"]
_TOPIC = ["cooks", "hikes", "paints", "codes", "lifts", "sings", "travels", "games", "bakes"]


def build_world(
    *, creators: int, days: int, seed: int, end: date, platforms: Mapping[str, DemoPlatform]
) -> World:
    """Simulate ``creators`` people over ``days`` days ending on ``end``.

    ``platforms`` are drawn in their mapping order (see ``DemoPlatform.order``).
    """
    rng = random.Random(seed)
    start = end - timedelta(days=days - 1)
    population = []
    for index in range(creators):
        name = f"{rng.choice(_FIRST)} {rng.choice(_TOPIC)}"
        base = f"{name.lower().replace(' ', '')}{index}"
        # log-normal around 15k: a long tail from a few hundred to several million
        audience = max(200, int(rng.lognormvariate(math.log(15_000), 1.9)))
        present = [p for p, demo in platforms.items() if rng.random() < demo.presence]
        present = present or [next(iter(platforms))]
        accounts = {
            platform: _account(rng, platform, platforms[platform], base, name, audience, start, end)
            for platform in present
        }
        population.append(Creator(f"cr-{index:04d}", name, accounts))
    return World(start=start, end=end, creators=population)


def _account(
    rng: random.Random,
    platform: str,
    demo: DemoPlatform,
    base: str,
    name: str,
    audience: int,
    start: date,
    end: date,
) -> Account:
    followers = max(50, int(audience * rng.lognormvariate(0, 0.5)))
    growth = rng.gauss(0.002, 0.003)
    spike_day = start + timedelta(days=rng.randrange((end - start).days + 1))
    bought = rng.random() < 0.08
    by_day: dict[date, int] = {}
    day = start
    while day <= end:
        followers = max(10, int(followers * (1 + growth + rng.gauss(0, 0.002))))
        if bought and day == spike_day:
            followers += int(followers * rng.uniform(0.15, 0.4))
        by_day[day] = followers
        day += timedelta(days=1)
    account = Account(
        platform=platform,
        account_id=demo.account_id(rng, base),
        handle=base,
        display_name=name.title(),
        created_at=datetime(2016, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(3000)),
        followers_by_day=by_day,
        following=rng.randrange(50, 2000),
        followers_hidden=rng.random() < 0.04,
        likes_hidden=rng.random() < 0.05,
        comments_disabled=rng.random() < 0.03,
    )
    size_factor = (max(followers, 100) / 1000) ** ENGAGEMENT_SIZE_EXPONENT
    engagement = BASE_ENGAGEMENT * size_factor * rng.lognormvariate(0, 0.3)
    cadence = rng.uniform(*demo.cadence)
    # posts from a few weeks before the window so the first days have a 28-day history
    day = start - timedelta(days=30)
    while day <= end:
        if rng.random() < cadence:
            published = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), UTC)
            reach = followers * rng.uniform(0.1, 0.6)
            if rng.random() < 0.02:
                reach *= rng.uniform(10, 40)  # a viral post
            account.posts.append(
                Post(
                    post_id=demo.post_id(rng),
                    published_at=published,
                    title=f"{name} {rng.choice(_TOPIC)} #{len(account.posts) + 1}",
                    duration_seconds=rng.randrange(15, 1800),
                    final_views=int(reach),
                    like_rate=min(0.5, engagement * rng.lognormvariate(0, 0.4)),
                    comment_rate=rng.uniform(0.02, 0.1),
                    share_rate=rng.uniform(0.01, 0.08),
                    save_rate=rng.uniform(0.01, 0.1),
                )
            )
        day += timedelta(days=1)
    return account
