"""Demo chain, stores and name parts for generating demo members and staff.

Data only: the seeding code decides how to combine these (e.g. a family name followed by one
given name gives 王芳 or 陈子涵). The matching product catalogue is ``products.csv`` next to
this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

CHAIN_NAME: Final = "鲜丰便利"


@dataclass(frozen=True, slots=True)
class DemoStore:
    code: str
    name: str
    address: str
    timezone: str = "Asia/Shanghai"


STORES: Final[tuple[DemoStore, ...]] = (
    DemoStore(
        code="S01",
        name="鲜丰便利 西湖店",
        address="浙江省杭州市西湖区文三路259号",
    ),
    DemoStore(
        code="S02",
        name="鲜丰便利 武林店",
        address="浙江省杭州市拱墅区体育场路368号",
    ),
    DemoStore(
        code="S03",
        name="鲜丰便利 滨江店",
        address="浙江省杭州市滨江区江南大道588号",
    ),
)

# Common single-character Chinese surnames, most frequent first.
FAMILY_NAMES: Final[tuple[str, ...]] = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
    "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高", "罗",
    "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "蒋", "蔡", "叶",
    "沈", "钱",
)  # fmt: skip

# Given names: single characters (王伟) and common two-character names (陈子涵),
# spanning older and younger generations.
GIVEN_NAMES: Final[tuple[str, ...]] = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
    "勇", "艳", "杰", "娟", "涛", "明", "超", "霞", "平", "刚",
    "雪", "琳", "慧", "鹏", "斌", "辉", "波", "宁", "倩", "颖",
    "昊", "欣", "悦", "瑞", "晨", "阳", "凯", "浩", "琪", "萍",
    "燕", "鑫", "雯", "秀英", "桂英", "秀兰", "淑珍", "玉兰", "春梅", "红梅",
    "建国", "建华", "国庆", "立新", "振华", "志强", "宏伟", "海燕", "丽华", "海波",
    "晓东", "晓峰", "俊杰", "婷婷", "浩然", "子涵", "欣怡", "梓萱", "一诺", "宇轩",
    "思远", "佳怡", "雨桐", "晨曦", "文博", "嘉怡", "子轩", "诗涵", "梦瑶", "天宇",
    "博文", "佳琪", "思琪", "子豪",
)  # fmt: skip

__all__ = ["CHAIN_NAME", "FAMILY_NAMES", "GIVEN_NAMES", "STORES", "DemoStore"]
