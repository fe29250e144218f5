"""The README's topic table says what schemas/topics.toml says."""

from tickwire_core.localstack._process import REPO_ROOT
from tickwire_core.topics import load_topics


def test_readme_topic_table_matches_the_topic_table() -> None:
    rows = {}
    for line in (REPO_ROOT / "README.md").read_text().splitlines():
        if line.startswith("| `tickwire."):
            cells = [c.strip() for c in line.replace("\\|", "/").strip("|").split("|")]
            rows[cells[0].strip("`")] = cells
    topics = load_topics()
    assert set(rows) == {t.name for t in topics}
    for topic in topics:
        cells = rows[topic.name]
        assert cells[2] == f"`{topic.value_schema}`", topic.name
        assert int(cells[3]) == topic.partitions, topic.name
        assert int(cells[4].split()[0]) * 86_400_000 == topic.retention_ms, topic.name
        assert cells[5] == ", ".join(topic.producers), topic.name
        assert cells[6] == ", ".join(topic.consumers), topic.name
