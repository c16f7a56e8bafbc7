//! The plan (document, sections, subsections, tasks), agencies with aliases, responsibilities,
//! provinces and progress reports.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    DocumentNumber,
    Title,
    PlanTitle,
    IssuingOffice,
    IssueDate,
    ImplementsTitle,
    ImplementsReference,
    Notice,
}

#[derive(DeriveIden)]
enum Sections {
    Table,
    Id,
    PlanId,
    Position,
    Numeral,
    Title,
}

#[derive(DeriveIden)]
enum Subsections {
    Table,
    Id,
    SectionId,
    Position,
    Numeral,
    Title,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    PlanId,
    SectionId,
    SubsectionId,
    Number,
    Text,
    ResponsibilityMode,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Id,
    Name,
    NameZh,
    Abbreviation,
}

#[derive(DeriveIden)]
enum AgencyAliases {
    Table,
    Id,
    AgencyId,
    Alias,
}

#[derive(DeriveIden)]
enum Responsibilities {
    Table,
    Id,
    TaskId,
    AgencyId,
    Role,
    Position,
}

#[derive(DeriveIden)]
enum Provinces {
    Table,
    Id,
    Code,
    Name,
    NameZh,
    Kind,
}

#[derive(DeriveIden)]
enum ProgressReports {
    Table,
    Id,
    TaskId,
    AgencyId,
    ProvinceId,
    Period,
    Status,
    PercentComplete,
    Summary,
    EvidenceUrls,
    SubmittedAt,
    Version,
    IsDemo,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .take()
}

fn index(name: &str, table: impl IntoIden, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    stmt.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Plans::Table)
                .col(big_pk_auto(Plans::Id))
                .col(string_uniq(Plans::DocumentNumber))
                .col(text(Plans::Title))
                .col(text(Plans::PlanTitle))
                .col(string(Plans::IssuingOffice))
                .col(date(Plans::IssueDate))
                .col(text(Plans::ImplementsTitle))
                .col(string(Plans::ImplementsReference))
                .col(text(Plans::Notice))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sections::Table)
                .col(big_pk_auto(Sections::Id))
                .col(big_integer(Sections::PlanId))
                .col(integer(Sections::Position))
                .col(string(Sections::Numeral))
                .col(text(Sections::Title))
                .foreign_key(&mut fk(Sections::Table, Sections::PlanId, Plans::Table, Plans::Id))
                .take(),
        )
        .await?;
        m.create_index(index("ux_sections_plan_position", Sections::Table, &["plan_id", "position"], true)).await?;

        m.create_table(
            Table::create()
                .table(Subsections::Table)
                .col(big_pk_auto(Subsections::Id))
                .col(big_integer(Subsections::SectionId))
                .col(integer(Subsections::Position))
                .col(string(Subsections::Numeral))
                .col(text(Subsections::Title))
                .foreign_key(&mut fk(Subsections::Table, Subsections::SectionId, Sections::Table, Sections::Id))
                .take(),
        )
        .await?;
        m.create_index(index("ux_subsections_section_position", Subsections::Table, &["section_id", "position"], true))
            .await?;

        m.create_table(
            Table::create()
                .table(Tasks::Table)
                .col(big_pk_auto(Tasks::Id))
                .col(big_integer(Tasks::PlanId))
                .col(big_integer(Tasks::SectionId))
                .col(big_integer(Tasks::SubsectionId))
                .col(integer(Tasks::Number))
                .col(text(Tasks::Text))
                .col(string_len(Tasks::ResponsibilityMode, 16))
                .foreign_key(&mut fk(Tasks::Table, Tasks::PlanId, Plans::Table, Plans::Id))
                .foreign_key(&mut fk(Tasks::Table, Tasks::SectionId, Sections::Table, Sections::Id))
                .foreign_key(&mut fk(Tasks::Table, Tasks::SubsectionId, Subsections::Table, Subsections::Id))
                .take(),
        )
        .await?;
        m.create_index(index("ux_tasks_plan_number", Tasks::Table, &["plan_id", "number"], true)).await?;
        m.create_index(index("ix_tasks_section_number", Tasks::Table, &["section_id", "number"], false)).await?;
        m.create_index(index("ix_tasks_subsection_number", Tasks::Table, &["subsection_id", "number"], false)).await?;

        m.create_table(
            Table::create()
                .table(Agencies::Table)
                .col(big_pk_auto(Agencies::Id))
                .col(string_uniq(Agencies::Name))
                .col(string(Agencies::NameZh))
                .col(string_len_null(Agencies::Abbreviation, 32))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AgencyAliases::Table)
                .col(big_pk_auto(AgencyAliases::Id))
                .col(big_integer(AgencyAliases::AgencyId))
                .col(string_uniq(AgencyAliases::Alias))
                .foreign_key(&mut fk(AgencyAliases::Table, AgencyAliases::AgencyId, Agencies::Table, Agencies::Id))
                .take(),
        )
        .await?;
        m.create_index(index("ix_agency_aliases_agency", AgencyAliases::Table, &["agency_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(Responsibilities::Table)
                .col(big_pk_auto(Responsibilities::Id))
                .col(big_integer(Responsibilities::TaskId))
                .col(big_integer(Responsibilities::AgencyId))
                .col(string_len(Responsibilities::Role, 16))
                .col(integer(Responsibilities::Position))
                .foreign_key(&mut fk(Responsibilities::Table, Responsibilities::TaskId, Tasks::Table, Tasks::Id))
                .foreign_key(&mut fk(
                    Responsibilities::Table,
                    Responsibilities::AgencyId,
                    Agencies::Table,
                    Agencies::Id,
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_responsibilities_task_agency",
            Responsibilities::Table,
            &["task_id", "agency_id"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ux_responsibilities_task_position",
            Responsibilities::Table,
            &["task_id", "position"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_responsibilities_agency_role",
            Responsibilities::Table,
            &["agency_id", "role"],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Provinces::Table)
                .col(big_pk_auto(Provinces::Id))
                .col(string_len_uniq(Provinces::Code, 6))
                .col(string(Provinces::Name))
                .col(string(Provinces::NameZh))
                .col(string_len(Provinces::Kind, 32))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ProgressReports::Table)
                .col(big_pk_auto(ProgressReports::Id))
                .col(big_integer(ProgressReports::TaskId))
                .col(big_integer_null(ProgressReports::AgencyId))
                .col(big_integer_null(ProgressReports::ProvinceId))
                .col(string_len(ProgressReports::Period, 16))
                .col(string_len(ProgressReports::Status, 16))
                .col(integer_null(ProgressReports::PercentComplete))
                .col(text(ProgressReports::Summary))
                .col(text(ProgressReports::EvidenceUrls))
                .col(timestamp_with_time_zone(ProgressReports::SubmittedAt))
                .col(integer(ProgressReports::Version).default(1))
                .col(boolean(ProgressReports::IsDemo).default(false))
                .check(
                    Expr::col(ProgressReports::AgencyId).is_null().ne(Expr::col(ProgressReports::ProvinceId).is_null()),
                )
                .check(
                    Expr::col(ProgressReports::PercentComplete)
                        .is_null()
                        .or(Expr::col(ProgressReports::PercentComplete).between(0, 100)),
                )
                .foreign_key(&mut fk(ProgressReports::Table, ProgressReports::TaskId, Tasks::Table, Tasks::Id))
                .foreign_key(&mut fk(ProgressReports::Table, ProgressReports::AgencyId, Agencies::Table, Agencies::Id))
                .foreign_key(&mut fk(
                    ProgressReports::Table,
                    ProgressReports::ProvinceId,
                    Provinces::Table,
                    Provinces::Id,
                ))
                .take(),
        )
        .await?;
        // Keyset pages are "newest first within a parent": (parent, id).
        m.create_index(index("ix_reports_task_id", ProgressReports::Table, &["task_id", "id"], false)).await?;
        m.create_index(index("ix_reports_agency_id", ProgressReports::Table, &["agency_id", "id"], false)).await?;
        m.create_index(index("ix_reports_province_id", ProgressReports::Table, &["province_id", "id"], false)).await?;
        m.create_index(index("ix_reports_period", ProgressReports::Table, &["period"], false)).await?;
        m.create_index(index("ix_reports_status", ProgressReports::Table, &["status"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProgressReports::Table.into_iden(),
            Provinces::Table.into_iden(),
            Responsibilities::Table.into_iden(),
            AgencyAliases::Table.into_iden(),
            Agencies::Table.into_iden(),
            Tasks::Table.into_iden(),
            Subsections::Table.into_iden(),
            Sections::Table.into_iden(),
            Plans::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).take()).await?;
        }
        Ok(())
    }
}
