"""Votes and bookmarks lose the indexes no read needs, which every write paid for.

- `tool_id` alone, on each table: the unique (tool_id, voter) and (tool_id, owner) indexes
  lead with the same column and serve every lookup by tool.
- (tool_id, verdict) on votes: the tallies are stored (0003, ToolVotes), so nothing counts
  votes by verdict on a request; on PostgreSQL it made every changed vote a non-HOT update.

The state says db_index=False; the database drops the indexes by name. Altering the field
itself would remake each table on SQLite, and the triggers on community_vote with it.
"""

import django.db.models.deletion
from django.db import migrations, models

FK_INDEXES = {  # the names Django gave the foreign keys' indexes (the same on both databases)
    "community_vote": "community_vote_tool_id_999c6097",
    "community_bookmark": "community_bookmark_tool_id_af5d94e7",
}


def unindexed_tool(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name=related_name, to="catalog.tool"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0013_rival_features_index"),
        ("community", "0003_toolvotes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="vote", name="community_v_tool_id_610461_idx"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name=model, name="tool", field=unindexed_tool(related))
                for model, related in [("bookmark", "bookmarks"), ("vote", "votes")]
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"', f'CREATE INDEX "{name}" ON "{table}" ("tool_id")'
                )
                for table, name in FK_INDEXES.items()
            ],
        ),
    ]
