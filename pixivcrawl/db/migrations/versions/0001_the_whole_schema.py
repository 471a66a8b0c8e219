"""The whole schema: every table of DESIGN.md, with its keys and indexes.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 02:01:17.665418
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Spelled out here, not imported from the schema, so this revision never changes.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('bookmarks',
    sa.Column('user_id', BigId, autoincrement=False, nullable=False),
    sa.Column('work_kind', sa.String(length=16), nullable=False),
    sa.Column('work_id', BigId, autoincrement=False, nullable=False),
    sa.Column('restrict', sa.String(length=16), nullable=False),
    sa.Column('bookmark_id', BigId, nullable=True),
    sa.Column('tags', Json, nullable=True),
    sa.Column('first_seen_at', Timestamp, nullable=False),
    sa.Column('last_seen_at', Timestamp, nullable=False),
    sa.CheckConstraint("work_kind IN ('illust', 'novel')", name=op.f('ck_bookmarks_work_kind')),
    sa.PrimaryKeyConstraint('user_id', 'work_kind', 'work_id', name=op.f('pk_bookmarks'))
    )
    op.create_index(op.f('ix_bookmarks_first_seen_at'), 'bookmarks', ['first_seen_at'])
    op.create_index(op.f('ix_bookmarks_last_seen_at'), 'bookmarks', ['last_seen_at'])
    op.create_index('ix_bookmarks_work_kind_work_id', 'bookmarks', ['work_kind', 'work_id'])

    op.create_table('comments',
    sa.Column('id', BigId, autoincrement=False, nullable=False),
    sa.Column('work_kind', sa.String(length=16), nullable=False),
    sa.Column('work_id', BigId, nullable=False),
    sa.Column('parent_id', BigId, nullable=True),
    sa.Column('user_id', BigId, nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('stamp_id', sa.Integer(), nullable=True),
    sa.Column('stamp_url', sa.String(), nullable=True),
    sa.Column('date', Timestamp, nullable=True),
    sa.Column('has_replies', sa.Boolean(), nullable=True),
    sa.Column('first_seen_at', Timestamp, nullable=False),
    sa.Column('last_seen_at', Timestamp, nullable=False),
    sa.CheckConstraint("work_kind IN ('illust', 'novel')", name=op.f('ck_comments_work_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    op.create_index(op.f('ix_comments_first_seen_at'), 'comments', ['first_seen_at'])
    op.create_index(op.f('ix_comments_last_seen_at'), 'comments', ['last_seen_at'])
    op.create_index(op.f('ix_comments_parent_id'), 'comments', ['parent_id'])
    op.create_index(op.f('ix_comments_user_id'), 'comments', ['user_id'])
    op.create_index('ix_comments_work_kind_work_id', 'comments', ['work_kind', 'work_id'])

    op.create_table('crawl_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('spider', sa.String(length=64), nullable=False),
    sa.Column('arguments', Json, nullable=False),
    sa.Column('started_at', Timestamp, nullable=False),
    sa.Column('finished_at', Timestamp, nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('finish_reason', sa.String(), nullable=True),
    sa.Column('counts', Json, nullable=True),
    sa.CheckConstraint("status IN ('running', 'finished', 'interrupted', 'failed')", name=op.f('ck_crawl_runs_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crawl_runs'))
    )
    op.create_index(op.f('ix_crawl_runs_spider'), 'crawl_runs', ['spider'])
    op.create_index(op.f('ix_crawl_runs_started_at'), 'crawl_runs', ['started_at'])

    op.create_table('follows',
    sa.Column('user_id', BigId, autoincrement=False, nullable=False),
    sa.Column('followed_user_id', BigId, nullable=False),
    sa.Column('restrict', sa.String(length=16), nullable=False),
    sa.Column('first_seen_at', Timestamp, nullable=False),
    sa.Column('last_seen_at', Timestamp, nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'followed_user_id', name=op.f('pk_follows'))
    )
    op.create_index(op.f('ix_follows_first_seen_at'), 'follows', ['first_seen_at'])
    op.create_index(op.f('ix_follows_followed_user_id'), 'follows', ['followed_user_id'])
    op.create_index(op.f('ix_follows_last_seen_at'), 'follows', ['last_seen_at'])

    op.create_table('novel_texts',
    sa.Column('novel_id', BigId, autoincrement=False, nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('plain_text', sa.Text(), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('marker', Json, nullable=True),
    sa.Column('fetched_at', Timestamp, nullable=False),
    sa.PrimaryKeyConstraint('novel_id', name=op.f('pk_novel_texts'))
    )
    op.create_table('rankings',
    sa.Column('mode', sa.String(length=32), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('illust_id', BigId, autoincrement=False, nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('crawled_at', Timestamp, nullable=False),
    sa.PrimaryKeyConstraint('mode', 'date', 'illust_id', name=op.f('pk_rankings'))
    )
    op.create_index('ix_rankings_illust_id_date', 'rankings', ['illust_id', 'date'])
    op.create_index('ix_rankings_mode_date_rank', 'rankings', ['mode', 'date', 'rank'])

    op.create_table('series',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('id', BigId, autoincrement=False, nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('caption', sa.String(), nullable=True),
    sa.Column('user_id', BigId, nullable=True),
    sa.Column('cover_url', sa.String(), nullable=True),
    sa.Column('work_count', sa.Integer(), nullable=True),
    sa.Column('create_date', Timestamp, nullable=True),
    sa.Column('is_original', sa.Boolean(), nullable=True),
    sa.Column('is_concluded', sa.Boolean(), nullable=True),
    sa.Column('total_character_count', sa.Integer(), nullable=True),
    sa.Column('first_seen_at', Timestamp, nullable=False),
    sa.Column('last_seen_at', Timestamp, nullable=False),
    sa.CheckConstraint("kind IN ('illust', 'novel')", name=op.f('ck_series_kind')),
    sa.PrimaryKeyConstraint('kind', 'id', name=op.f('pk_series'))
    )
    op.create_index(op.f('ix_series_first_seen_at'), 'series', ['first_seen_at'])
    op.create_index(op.f('ix_series_last_seen_at'), 'series', ['last_seen_at'])
    op.create_index(op.f('ix_series_user_id'), 'series', ['user_id'])

    op.create_table('series_works',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('series_id', BigId, autoincrement=False, nullable=False),
    sa.Column('work_id', BigId, autoincrement=False, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', Timestamp, nullable=False),
    sa.Column('last_seen_at', Timestamp, nullable=False),
    sa.CheckConstraint("kind IN ('illust', 'novel')", name=op.f('ck_series_works_kind')),
    sa.PrimaryKeyConstraint('kind', 'series_id', 'work_id', name=op.f('pk_series_works'))
    )
    op.create_index(op.f('ix_series_works_first_seen_at'), 'series_works', ['first_seen_at'])
    op.create_index(op.f('ix_series_works_last_seen_at'), 'series_works', ['last_seen_at'])
    op.create_index('ix_series_works_kind_series_id_position', 'series_works', ['kind', 'series_id', 'position'])
    op.create_index('ix_series_works_kind_work_id', 'series_works', ['kind', 'work_id'])

    op.create_table('tags',
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('translated_name', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_tags'))
    )
    op.create_table('trending_tags',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('tag', sa.String(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('translated_name', sa.String(), nullable=True),
    sa.Column('work_id', BigId, nullable=True),
    sa.Column('captured_at', Timestamp, nullable=False),
    sa.CheckConstraint("kind IN ('illust', 'novel')", name=op.f('ck_trending_tags_kind')),
    sa.PrimaryKeyConstraint('kind', 'date', 'tag', name=op.f('pk_trending_tags'))
    )
    op.create_index(op.f('ix_trending_tags_tag'), 'trending_tags', ['tag'])

    op.create_table('users',
    sa.Column('id', BigId, autoincrement=False, nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('account', sa.String(), nullable=False),
    sa.Column('profile_image_url', sa.String(), nullable=True),
    sa.Column('profile_image_local_path', sa.String(), nullable=True),
    sa.Column('profile_image_sha256', sa.String(length=64), nullable=True),
    sa.Column('comment', sa.String(), nullable=True),
    sa.Column('is_followed', sa.Boolean(), nullable=True),
    sa.Column('profile', Json, nullable=True),
    sa.Column('profile_publicity', Json, nullable=True),
    sa.Column('workspace', Json, nullable=True),
    sa.Column('detail_fetched_at', Timestamp, nullable=True),
    sa.Column('first_seen_at', Timestamp, nullable=False),
    sa.Column('last_seen_at', Timestamp, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_index(op.f('ix_users_account'), 'users', ['account'])
    op.create_index(op.f('ix_users_first_seen_at'), 'users', ['first_seen_at'])
    op.create_index(op.f('ix_users_last_seen_at'), 'users', ['last_seen_at'])

    op.create_table('work_stats',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('work_id', BigId, autoincrement=False, nullable=False),
    sa.Column('captured_at', Timestamp, nullable=False),
    sa.Column('total_view', sa.Integer(), nullable=True),
    sa.Column('total_bookmarks', sa.Integer(), nullable=True),
    sa.Column('total_comments', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('illust', 'novel')", name=op.f('ck_work_stats_kind')),
    sa.PrimaryKeyConstraint('kind', 'work_id', 'captured_at', name=op.f('pk_work_stats'))
    )
    op.create_table('illusts',
    sa.Column('id', BigId, autoincrement=False, nullable=False),
    sa.Column('user_id', BigId, nullable=True),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('type', sa.String(), nullable=False),
    sa.Column('caption', sa.String(), nullable=False),
    sa.Column('restrict', sa.Integer(), nullable=False),
    sa.Column('x_restrict', sa.Integer(), nullable=False),
    sa.Column('sanity_level', sa.Integer(), nullable=True),
    sa.Column('ai_type', sa.Integer(), nullable=False),
    sa.Column('book_style', sa.Integer(), nullable=True),
    sa.Column('create_date', Timestamp, nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('total_view', sa.Integer(), nullable=True),
    sa.Column('total_bookmarks', sa.Integer(), nullable=True),
    sa.Column('total_comments', sa.Integer(), nullable=True),
    sa.Column('is_bookmarked', sa.Boolean(), nullable=True),
    sa.Column('is_muted', sa.Boolean(), nullable=True),
    sa.Column('series_id', BigId, nullable=True),
    sa.Column('tools', Json, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('restriction', sa.String(), nullable=True),
    sa.Column('first_seen_at', Timestamp, nullable=False),
    sa.Column('last_seen_at', Timestamp, nullable=False),
    sa.CheckConstraint("status IN ('available', 'hidden', 'deleted')", name=op.f('ck_illusts_status')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_illusts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_illusts'))
    )
    op.create_index(op.f('ix_illusts_create_date'), 'illusts', ['create_date'])
    op.create_index(op.f('ix_illusts_first_seen_at'), 'illusts', ['first_seen_at'])
    op.create_index(op.f('ix_illusts_last_seen_at'), 'illusts', ['last_seen_at'])
    op.create_index(op.f('ix_illusts_series_id'), 'illusts', ['series_id'])
    op.create_index(op.f('ix_illusts_status'), 'illusts', ['status'])
    op.create_index('ix_illusts_user_id_create_date', 'illusts', ['user_id', 'create_date'])

    op.create_table('novels',
    sa.Column('id', BigId, autoincrement=False, nullable=False),
    sa.Column('user_id', BigId, nullable=True),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('caption', sa.String(), nullable=False),
    sa.Column('restrict', sa.Integer(), nullable=False),
    sa.Column('x_restrict', sa.Integer(), nullable=False),
    sa.Column('is_original', sa.Boolean(), nullable=True),
    sa.Column('ai_type', sa.Integer(), nullable=False),
    sa.Column('create_date', Timestamp, nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('text_length', sa.Integer(), nullable=True),
    sa.Column('cover_url', sa.String(), nullable=True),
    sa.Column('cover_local_path', sa.String(), nullable=True),
    sa.Column('cover_sha256', sa.String(length=64), nullable=True),
    sa.Column('total_view', sa.Integer(), nullable=True),
    sa.Column('total_bookmarks', sa.Integer(), nullable=True),
    sa.Column('total_comments', sa.Integer(), nullable=True),
    sa.Column('is_bookmarked', sa.Boolean(), nullable=True),
    sa.Column('is_muted', sa.Boolean(), nullable=True),
    sa.Column('is_mypixiv_only', sa.Boolean(), nullable=True),
    sa.Column('is_x_restricted', sa.Boolean(), nullable=True),
    sa.Column('series_id', BigId, nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('restriction', sa.String(), nullable=True),
    sa.Column('first_seen_at', Timestamp, nullable=False),
    sa.Column('last_seen_at', Timestamp, nullable=False),
    sa.CheckConstraint("status IN ('available', 'hidden', 'deleted')", name=op.f('ck_novels_status')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_novels_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_novels'))
    )
    op.create_index(op.f('ix_novels_create_date'), 'novels', ['create_date'])
    op.create_index(op.f('ix_novels_first_seen_at'), 'novels', ['first_seen_at'])
    op.create_index(op.f('ix_novels_last_seen_at'), 'novels', ['last_seen_at'])
    op.create_index(op.f('ix_novels_series_id'), 'novels', ['series_id'])
    op.create_index(op.f('ix_novels_status'), 'novels', ['status'])
    op.create_index('ix_novels_user_id_create_date', 'novels', ['user_id', 'create_date'])

    op.create_table('illust_pages',
    sa.Column('illust_id', BigId, nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('original_url', sa.String(), nullable=True),
    sa.Column('square_medium_url', sa.String(), nullable=True),
    sa.Column('medium_url', sa.String(), nullable=True),
    sa.Column('large_url', sa.String(), nullable=True),
    sa.Column('file_url', sa.String(), nullable=True),
    sa.Column('local_path', sa.String(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('downloaded_at', Timestamp, nullable=True),
    sa.ForeignKeyConstraint(['illust_id'], ['illusts.id'], name=op.f('fk_illust_pages_illust_id_illusts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('illust_id', 'page', name=op.f('pk_illust_pages'))
    )
    op.create_table('illust_tags',
    sa.Column('illust_id', BigId, nullable=False),
    sa.Column('tag', sa.String(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['illust_id'], ['illusts.id'], name=op.f('fk_illust_tags_illust_id_illusts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag'], ['tags.name'], name=op.f('fk_illust_tags_tag_tags')),
    sa.PrimaryKeyConstraint('illust_id', 'tag', name=op.f('pk_illust_tags'))
    )
    op.create_index('ix_illust_tags_tag_illust_id', 'illust_tags', ['tag', 'illust_id'])

    op.create_table('novel_tags',
    sa.Column('novel_id', BigId, nullable=False),
    sa.Column('tag', sa.String(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('added_by_uploaded_user', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['novel_id'], ['novels.id'], name=op.f('fk_novel_tags_novel_id_novels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag'], ['tags.name'], name=op.f('fk_novel_tags_tag_tags')),
    sa.PrimaryKeyConstraint('novel_id', 'tag', name=op.f('pk_novel_tags'))
    )
    op.create_index('ix_novel_tags_tag_novel_id', 'novel_tags', ['tag', 'novel_id'])

    op.create_table('ugoira',
    sa.Column('illust_id', BigId, nullable=False),
    sa.Column('zip_url', sa.String(), nullable=False),
    sa.Column('frames', Json, nullable=False),
    sa.Column('frame_count', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('zip_local_path', sa.String(), nullable=True),
    sa.Column('zip_size', sa.BigInteger(), nullable=True),
    sa.Column('zip_sha256', sa.String(length=64), nullable=True),
    sa.Column('animation_local_path', sa.String(), nullable=True),
    sa.Column('animation_format', sa.String(length=16), nullable=True),
    sa.Column('animation_size', sa.BigInteger(), nullable=True),
    sa.Column('animation_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['illust_id'], ['illusts.id'], name=op.f('fk_ugoira_illust_id_illusts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('illust_id', name=op.f('pk_ugoira'))
    )


def downgrade() -> None:
    op.drop_table('ugoira')
    op.drop_table('novel_tags')
    op.drop_table('illust_tags')
    op.drop_table('illust_pages')
    op.drop_table('novels')
    op.drop_table('illusts')
    op.drop_table('work_stats')
    op.drop_table('users')
    op.drop_table('trending_tags')
    op.drop_table('tags')
    op.drop_table('series_works')
    op.drop_table('series')
    op.drop_table('rankings')
    op.drop_table('novel_texts')
    op.drop_table('follows')
    op.drop_table('crawl_runs')
    op.drop_table('comments')
    op.drop_table('bookmarks')
