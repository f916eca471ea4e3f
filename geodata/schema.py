"""The data model: layers, their fields and the controlled vocabularies (sectors, classes, kinds).

Everything that validates, generates, imports or exports data reads the field lists here, so the
model is stated once. See ``DESIGN.md`` (data model) for the meaning of each field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "SECTORS",
    "SECTOR_IDS",
    "SECTOR_LABELS_ZH",
    "POLLUTION_CLASSES",
    "PARK_KINDS",
    "PROTECTED_KINDS",
    "CATALOGUE_LEVELS",
    "FUNDING_TYPES",
    "PROJECT_STATUSES",
    "Field",
    "LayerSchema",
    "LAYERS",
    "IMPORTABLE_LAYERS",
    "class_rank",
    "SERIES_YEARS",
]


@dataclass(frozen=True)
class Sector:
    id: str
    zh: str
    en: str
    gbt4754: tuple[str, ...]  # GB/T 4754-2017 divisions (2-digit codes) the sector covers


# The plan's eleven investment directions (section 三), with the national industry classification
# divisions each covers, so real enterprise registers (which carry a GB/T 4754 code) can be mapped.
SECTORS: tuple[Sector, ...] = (
    Sector("information", "信息产业", "Information industry", ("39", "63", "64", "65")),
    Sector("textiles", "纺织服装", "Textiles and apparel", ("17", "18")),
    Sector("light_industry", "轻工业", "Light industry", ("13", "14", "15", "19", "20", "21", "22", "23", "24", "29")),
    Sector("machinery", "机械", "Machinery", ("33", "34", "35", "36", "37", "38", "40", "43")),
    Sector("petrochemical", "石化", "Petrochemicals and fine chemicals", ("25", "26", "28")),
    Sector("biopharma", "生物工程和医药", "Biotech and pharmaceuticals", ("27",)),
    Sector("building_materials", "建材", "Building materials", ("30",)),
    Sector("metallurgy", "冶金", "Metallurgy", ("31", "32")),
    Sector("new_materials", "新材料", "New materials", ("41",)),
    Sector("environmental", "环保产业", "Environmental protection industry", ("42", "46", "77")),
    Sector("logistics", "流通业", "Distribution and logistics", ("51", "52", "53", "54", "58", "59")),
)
SECTOR_IDS: tuple[str, ...] = tuple(s.id for s in SECTORS)
SECTOR_LABELS_ZH: dict[str, str] = {s.id: s.zh for s in SECTORS}
SECTOR_LABELS_EN: dict[str, str] = {s.id: s.en for s in SECTORS}
GBT4754_TO_SECTOR: dict[str, str] = {div: s.id for s in SECTORS for div in s.gbt4754}

POLLUTION_CLASSES: tuple[str, ...] = ("light", "medium", "heavy")  # ordered
POLLUTION_LABELS_ZH = {"light": "轻度", "medium": "中度", "heavy": "重度"}
PARK_KINDS: tuple[str, ...] = ("township_zone", "specialty_park")
PARK_KIND_LABELS_ZH = {"township_zone": "乡镇工业专业区", "specialty_park": "特色工业园区"}
PROTECTED_KINDS: tuple[str, ...] = ("ecological_redline", "permanent_farmland", "water_source")
PROTECTED_LABELS_ZH = {"ecological_redline": "生态保护红线", "permanent_farmland": "永久基本农田", "water_source": "饮用水水源保护区"}
CATALOGUE_LEVELS: tuple[str, ...] = ("encouraged", "restricted", "eliminate")
FUNDING_TYPES: tuple[str, ...] = ("national_debt", "provincial_key", "own")
PROJECT_STATUSES: tuple[str, ...] = ("planned", "in_progress", "completed", "cancelled")
SIZE_CLASSES: tuple[str, ...] = ("above", "below")  # 规模以上 / 规模以下
DESIGNATED_SIZE_REVENUE_YUAN = 5_000_000  # 规模以上工业企业: main-business revenue >= 5 M yuan (plan era)
# The plan is Zhejiang's 10th five-year period (2001-2005); the built-in yearly series also cover the
# previous period (1996-2000), against which the plan states its targets.
SERIES_YEARS: tuple[int, ...] = tuple(range(1996, 2006))


def class_rank(value: str) -> int:
    """Order of a pollution/energy class: light=0 < medium=1 < heavy=2."""
    return POLLUTION_CLASSES.index(value)


@dataclass(frozen=True)
class Field:
    name: str
    dtype: str  # "str", "int", "float", "bool", "list", "date"
    required: bool = True
    choices: tuple[str, ...] | None = None
    zh: str = ""  # Chinese header accepted on import
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class LayerSchema:
    name: str
    geometry: str | None  # "Point", "Polygon", "MultiPolygon" or None
    id_field: str | None
    fields: tuple[Field, ...] = field(default_factory=tuple)
    synthetic_builtin: bool = True
    unique: tuple[str, ...] = ()  # fields that together identify a row of a table without an id field

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


LAYERS: dict[str, LayerSchema] = {
    "counties": LayerSchema(
        "counties", "MultiPolygon", "code",
        (
            Field("code", "str", zh="区划代码"),
            Field("name", "str", zh="名称"),
            Field("city", "str", zh="城市"),
            Field("city_code", "str", required=False, zh="城市代码"),
            Field("less_developed", "bool", zh="欠发达"),
            Field("coastal", "bool", zh="沿海"),
        ),
        synthetic_builtin=False,
    ),
    "parks": LayerSchema(
        "parks", "Polygon", "park_id",
        (
            Field("park_id", "str", zh="园区编号"),
            Field("name", "str", zh="园区名称"),
            Field("kind", "str", choices=PARK_KINDS, zh="类型"),
            Field("county_code", "str", zh="区县代码"),
            Field("leading_sectors", "list", zh="主导产业"),
            Field("area_ha", "float", minimum=0, zh="面积"),
            Field("free_land_ha", "float", minimum=0, zh="可用土地"),
            Field("land_price", "float", minimum=0, zh="地价"),
            Field("max_pollution_class", "str", choices=POLLUTION_CLASSES, zh="最高污染等级"),
            Field("rail_km", "float", minimum=0, zh="距铁路"),
            Field("port_km", "float", minimum=0, zh="距港口"),
            Field("expressway_km", "float", minimum=0, zh="距高速"),
            Field("established", "int", required=False, zh="设立年份"),
            Field("floor_area_ratio", "float", required=False, minimum=0, zh="容积率"),
            Field("building_density", "float", required=False, minimum=0, zh="建筑密度"),
            Field("supplied_ha", "float", required=False, minimum=0, zh="已供应土地"),
            Field("built_ha", "float", required=False, minimum=0, zh="已建成土地"),
        ),
    ),
    "enterprises": LayerSchema(
        "enterprises", "Point", "enterprise_id",
        (
            Field("enterprise_id", "str", zh="企业编号"),
            Field("name", "str", zh="企业名称"),
            Field("sector", "str", choices=SECTOR_IDS, zh="行业"),
            Field("product", "str", required=False, zh="主要产品"),
            Field("size", "str", required=False, choices=SIZE_CLASSES, zh="规模"),
            Field("employees", "int", minimum=0, zh="从业人员"),
            Field("revenue", "float", minimum=0, zh="营业收入"),
            Field("land_ha", "float", minimum=0, zh="用地面积"),
            Field("tax", "float", required=False, minimum=0, zh="税收"),
            Field("value_added", "float", required=False, zh="增加值"),
            Field("energy_tce", "float", required=False, minimum=0, zh="综合能耗"),
            Field("rd_spend", "float", required=False, minimum=0, zh="研发经费"),
            Field("pollution_class", "str", choices=POLLUTION_CLASSES, zh="污染等级"),
            Field("energy_class", "str", required=False, choices=POLLUTION_CLASSES, zh="能耗等级"),
            Field("labour_intensive", "bool", required=False, zh="劳动密集型"),
            Field("key_enterprise", "bool", required=False, zh="五个一批"),
            Field("chain_leader", "bool", required=False, zh="链主企业"),
            Field("established", "int", required=False, zh="成立年份"),
            Field("township_enterprise", "bool", required=False, zh="乡镇企业"),
            Field("small_giant", "bool", required=False, zh="小型巨人"),
            Field("high_tech", "bool", required=False, zh="高新技术企业"),
        ),
    ),
    "projects": LayerSchema(
        "projects", None, "project_id",
        (
            Field("project_id", "str", zh="项目编号"),
            Field("enterprise_id", "str", zh="企业编号"),
            Field("title", "str", zh="项目名称"),
            Field("sector", "str", choices=SECTOR_IDS, zh="行业"),
            Field("investment", "float", minimum=0, zh="总投资"),
            Field("imported_equipment_usd", "float", required=False, minimum=0, zh="引进设备用汇"),
            Field("subsidy", "float", required=False, minimum=0, zh="贴息"),
            Field("funding", "str", choices=FUNDING_TYPES, zh="资金来源"),
            Field("start_year", "int", zh="开工年份"),
            Field("status", "str", choices=PROJECT_STATUSES, zh="状态"),
            Field("start_date", "date", required=False, zh="开工日期"),
            Field("planned_completion", "date", required=False, zh="计划竣工日期"),
            Field("actual_completion", "date", required=False, zh="实际竣工日期"),
        ),
    ),
    # 配套企业 -> 链主企业 (plan 四.四.1): a supplier may serve several chain leaders.
    "suppliers": LayerSchema(
        "suppliers", None, None,
        (
            Field("supplier_id", "str", zh="配套企业编号"),
            Field("leader_id", "str", zh="链主企业编号"),
            Field("share", "float", required=False, minimum=0, maximum=1, zh="配套份额"),
        ),
        unique=("supplier_id", "leader_id"),
    ),
    # 全社会固定资产投资 / 工业固定资产投资 / 技术改造投资 by county and year (yuan).
    "fixed_asset_investment": LayerSchema(
        "fixed_asset_investment", None, None,
        (
            Field("county_code", "str", zh="区县代码"),
            Field("year", "int", zh="年份"),
            Field("total", "float", minimum=0, zh="全社会固定资产投资"),
            Field("industrial", "float", minimum=0, zh="工业固定资产投资"),
            Field("tech_transformation", "float", required=False, minimum=0, zh="技术改造投资"),
        ),
        unique=("county_code", "year"),
    ),
    # 销售收入 / 工业增加值 of each enterprise by year (yuan).
    "enterprise_years": LayerSchema(
        "enterprise_years", None, None,
        (
            Field("enterprise_id", "str", zh="企业编号"),
            Field("year", "int", zh="年份"),
            Field("sales", "float", minimum=0, zh="销售收入"),
            Field("value_added", "float", zh="工业增加值"),
        ),
        unique=("enterprise_id", "year"),
    ),
    "protected_areas": LayerSchema(
        "protected_areas", "Polygon", "area_id",
        (
            Field("area_id", "str", zh="编号"),
            Field("kind", "str", choices=PROTECTED_KINDS, zh="类型"),
            Field("name", "str", required=False, zh="名称"),
        ),
    ),
    "urban_boundaries": LayerSchema(
        "urban_boundaries", "Polygon", "city",
        (
            Field("city", "str", zh="城市"),
            Field("city_code", "str", required=False, zh="城市代码"),
            Field("centre_lon", "float", required=False, zh="中心经度"),
            Field("centre_lat", "float", required=False, zh="中心纬度"),
        ),
    ),
    "catalogue": LayerSchema(
        "catalogue", None, None,
        (
            Field("sector", "str", choices=SECTOR_IDS, zh="行业"),
            Field("product", "str", required=False, zh="产品"),
            Field("size", "str", required=False, choices=("below", "above", ""), zh="规模"),
            Field("level", "str", choices=CATALOGUE_LEVELS, zh="类别"),
            Field("note", "str", required=False, zh="说明"),
        ),
    ),
}

#: the layers ``parkplan import`` and the import API accept (:func:`geodata.validate.validate_layer`); here, in the
#: light schema module, so that the command line can name them in its help without importing pandas
IMPORTABLE_LAYERS = ("parks", "enterprises", "projects", "protected_areas", "urban_boundaries", "catalogue", "counties",
                     "suppliers", "fixed_asset_investment", "enterprise_years")
