"""Fictional names: people, places, helping units; and ID numbers with a correct GB 11643 check digit.

Names are random combinations of common characters, so they belong to no real person; every character
is in GBK, because some counties send GBK files.
"""

from __future__ import annotations

import numpy as np

# Common Zhejiang surnames, roughly by frequency (蓝, 雷, 钟 are frequent among the She of 景宁).
SURNAMES = list("王陈李张吴徐金周刘杨胡朱黄何林郑蒋叶方毛潘邵钱汪姜傅沈俞应程戴郭赵"
                "孙楼余蓝雷钟柳季项鲍詹祝翁洪")
_SURNAME_WEIGHTS = np.linspace(3.0, 0.6, len(SURNAMES))
SURNAME_P = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()
GIVEN_CHARS = list(
    "国建华明伟芳秀英军平文红丽志强永春海荣金根土水林德福寿美兰桂花云玉清忠良才宝发财仁义礼和顺"
    "祥瑞生长兴旺富贵达成新立正小银凤彩霞燕萍玲娟琴梅菊芬仙娥妹仙法昌松柏青山江波涛洪东"
)
_PLACE_FIRST = list("上下东西南北前后大小新老高低石山溪水竹梅桃李松柏枫青白黄金银龙凤里外中横长")
_PLACE_SECOND = list("岙坑坞塘湾源口头坪岗垟溪桥村庄田山岭坂洋潭圩埠墩坞湖港畈岩林家垄")
_UNIT_SUFFIXES = [
    "农业局", "财政局", "交通运输局", "卫生局", "水利局", "国土资源局", "住建局", "教育局", "民政局",
    "人力社保局", "供电公司", "农商银行", "供销社", "人民医院", "发改局", "商务局", "科技局", "林业局",
]
_PROVINCE_UNITS = [
    "省农业厅", "省财政厅", "省交通运输厅", "省水利厅", "省民政厅", "省科技厅", "省林业厅", "省供销社",
    "省农村信用社联合社", "省电力公司", "省农业科学院", "省建设投资集团",
]
_SITE_SUFFIXES = ["新村", "安置小区", "花园", "新区", "家园"]

CHECK_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
CHECK_CHARS = "10X98765432"


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    surnames = rng.choice(len(SURNAMES), size=n, p=SURNAME_P)
    first = rng.integers(0, len(GIVEN_CHARS), size=n)
    second = rng.integers(0, len(GIVEN_CHARS), size=n)
    two_chars = rng.random(n) < 0.8
    return [
        SURNAMES[s] + GIVEN_CHARS[a] + (GIVEN_CHARS[b] if two else "")
        for s, a, b, two in zip(surnames.tolist(), first.tolist(), second.tolist(), two_chars.tolist(),
                                strict=True)
    ]


def place_names(rng: np.random.Generator, n: int, taken: set[str] | None = None) -> list[str]:
    """``n`` distinct two- or three-character place stems (no suffix); falls back to numbered stems."""
    taken = set() if taken is None else taken
    names: list[str] = []
    attempts = 0
    while len(names) < n and attempts < 20 * n + 100:
        attempts += 1
        stem = _PLACE_FIRST[rng.integers(len(_PLACE_FIRST))] + _PLACE_SECOND[rng.integers(len(_PLACE_SECOND))]
        if rng.random() < 0.25:
            stem = _PLACE_FIRST[rng.integers(len(_PLACE_FIRST))] + stem
        if stem not in taken:
            taken.add(stem)
            names.append(stem)
    while len(names) < n:
        # Small pools run out in very large counties; numbered stems stay unique.
        stem = f"{_PLACE_FIRST[len(names) % len(_PLACE_FIRST)]}{len(names)}"
        if stem not in taken:
            taken.add(stem)
            names.append(stem)
        else:
            names.append(stem + "新")
    return names


def helping_units(rng: np.random.Generator, city_name: str, county_short: str, n: int) -> list[str]:
    """Helping units (结对帮扶单位): organisations, not people."""
    choice = rng.random(n)
    units = []
    for i in range(n):
        if choice[i] < 0.3:
            units.append(_PROVINCE_UNITS[rng.integers(len(_PROVINCE_UNITS))])
        elif choice[i] < 0.6:
            units.append(city_name + _UNIT_SUFFIXES[rng.integers(len(_UNIT_SUFFIXES))])
        else:
            units.append(county_short + _UNIT_SUFFIXES[rng.integers(len(_UNIT_SUFFIXES))])
    return units


def settlement_sites(rng: np.random.Generator, n: int) -> list[str]:
    stems = place_names(rng, max(n, 1))
    suffixes = rng.integers(0, len(_SITE_SUFFIXES), size=len(stems))
    return [stem + _SITE_SUFFIXES[s] for stem, s in zip(stems, suffixes.tolist(), strict=True)][:n]


def check_digit(first17: str) -> str:
    """GB 11643 check character of the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, CHECK_WEIGHTS.tolist(), strict=True))
    return CHECK_CHARS[total % 11]


def is_valid_id_number(value: str) -> bool:
    return (len(value) == 18 and value[:17].isdigit() and value[17] in "0123456789X"
            and check_digit(value[:17]) == value[17])


def id_numbers(
    rng: np.random.Generator, region: str, birth_years: np.ndarray, female: np.ndarray
) -> list[str]:
    """18-character ID numbers: region code, birth date, sequence (odd for men), check digit."""
    n = len(birth_years)
    months = rng.integers(1, 13, size=n)
    days = rng.integers(1, 29, size=n)
    seq = rng.integers(0, 500, size=n) * 2 + np.where(female, 0, 1)
    first17 = np.empty((n, 17), dtype=np.int64)
    for i, ch in enumerate(region):
        first17[:, i] = int(ch)
    for arr, start, width in ((birth_years, 6, 4), (months, 10, 2), (days, 12, 2), (seq, 14, 3)):
        for k in range(width):
            first17[:, start + k] = (arr // 10 ** (width - 1 - k)) % 10
    checks = (first17 @ CHECK_WEIGHTS) % 11
    return [
        f"{region}{y:04d}{m:02d}{d:02d}{s:03d}{CHECK_CHARS[c]}"
        for y, m, d, s, c in zip(birth_years.tolist(), months.tolist(), days.tolist(), seq.tolist(),
                                 checks.tolist(), strict=True)
    ]
