//! `id`: by executive document number, and its document types (`typeid`).

use proverka_core::Params;

use super::{Charset, check_chars, optional, region, required, squeeze};
use crate::error::{ErrorCode, ValidationError};
use crate::query::Region;

/// Executive document type (`typeid`), from the page's table (Тип исполнительного документа).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum DocumentType {
    /// 1 — Исполнительный документ.
    ExecutiveDocument = 1,
    /// 2 — Нотариально удостоверенное соглашение об уплате алиментов.
    NotarialAlimonyAgreement = 2,
    /// 3 — Акт по делу об административном правонарушении.
    AdministrativeOffenceAct = 3,
    /// 4 — Судебный приказ.
    CourtOrder = 4,
    /// 5 — Акт органа, осуществляющего контрольные функции.
    SupervisoryBodyAct = 5,
    /// 6 — Удостоверение комиссии по трудовым спорам.
    LabourDisputeCommissionCertificate = 6,
    /// 7 — Акт другого органа.
    OtherBodyAct = 7,
    /// 8 — Постановление судебного пристава-исполнителя.
    BailiffResolution = 8,
    /// 10 — Исполнительная надпись нотариуса.
    NotaryExecutiveInscription = 10,
    /// 11 — Судебный акт по делу об административном правонарушении.
    CourtActOnAdministrativeOffence = 11,
    /// 12 — Запрос центрального органа о розыске ребенка.
    ChildSearchRequest = 12,
    /// 13 — Исполнительный документ, выданный компетентным органом иностранного государства.
    ForeignCompetentBodyDocument = 13,
    /// 16 — Удостоверение уполномоченного по правам потребителей финансовых услуг (123-ФЗ).
    FinancialOmbudsmanCertificate = 16,
    /// 17 — Определение судьи о наложении ареста на имущество (ст. 19.28 КоАП).
    PropertyArrestRuling = 17,
    /// 18 — Нотариально удостоверенное медиативное соглашение.
    NotarialMediationAgreement = 18,
    /// 19 — Решение государственного инспектора труда о принудительном исполнении.
    LabourInspectorDecision = 19,
}

impl DocumentType {
    /// Every documented type.
    pub const ALL: [Self; 16] = [
        Self::ExecutiveDocument,
        Self::NotarialAlimonyAgreement,
        Self::AdministrativeOffenceAct,
        Self::CourtOrder,
        Self::SupervisoryBodyAct,
        Self::LabourDisputeCommissionCertificate,
        Self::OtherBodyAct,
        Self::BailiffResolution,
        Self::NotaryExecutiveInscription,
        Self::CourtActOnAdministrativeOffence,
        Self::ChildSearchRequest,
        Self::ForeignCompetentBodyDocument,
        Self::FinancialOmbudsmanCertificate,
        Self::PropertyArrestRuling,
        Self::NotarialMediationAgreement,
        Self::LabourInspectorDecision,
    ];

    /// The `typeid=` number.
    pub const fn id(self) -> u8 {
        self as u8
    }

    /// Reads a `typeid` value.
    ///
    /// # Errors
    /// 888 for non-digits, 107 TYPEID_NOT_CORRECTED for a number not in the table.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        check_chars(s, "typeid", Charset::Digits)?;
        let n: Option<u8> = s.parse().ok();
        Self::ALL
            .into_iter()
            .find(|t| Some(t.id()) == n)
            .ok_or(ValidationError::new(
                ErrorCode::TypeIdNotCorrected,
                "typeid",
                "is not in the provider's typeid table",
            ))
    }
}

/// `id`: by executive document number (номер исполнительного документа), as such numbers are
/// written: `ФС 039022227` (the page's own sample `document_num`), `2А-1234/2021`,
/// `№ 2-100/2024`.
///
/// The page's parameter rows for `ip` and `id` are swapped (see `docs/providers/fssp.md`): the
/// document-number row allows "кирилица, латиница, цифры, знак "-/"". Spaces, `№` and `.` are
/// accepted too, as real document numbers hold them (proverka's reading of the page); what no
/// document number can hold (`@`, `?`, `&`, quotes, control characters) is refused with 888.
///
/// The page warns that this type works correctly only with one region, so [`Region::All`] is
/// refused here: proverka's own rule (an answer the provider says is wrong would still be paid).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Id {
    number: String,
    region: Region,
    typeid: Option<DocumentType>,
}

impl Id {
    pub(super) fn from_params(p: Params<'_>) -> Result<Self, ValidationError> {
        let number = squeeze(required(
            p.first_of(&["number"]),
            "number",
            ErrorCode::MissingDocumentNumber,
        )?);
        check_chars(&number, "number", Charset::DocumentNumber)?;
        if !number.chars().any(|c| c.is_ascii_digit()) {
            return Err(ValidationError::own(
                ErrorCode::MissingDocumentNumber,
                "number",
                "must contain digits (every executive document number does)",
            ));
        }
        let region = match region(p.first_of(&["region"]))? {
            Region::All => {
                return Err(ValidationError::own(
                    ErrorCode::MissingRegion,
                    "region",
                    "type id works correctly only with one region (the page: \"работает корректно только поиск с указанием конкретного региона\"), not -1",
                ));
            }
            one => one,
        };
        let typeid = optional(p.first_of(&["typeid"]))
            .map(DocumentType::parse)
            .transpose()?;
        Ok(Self {
            number,
            region,
            typeid,
        })
    }

    /// A search by document number in one region.
    ///
    /// # Errors
    /// 106 for a missing number, 103 for a missing region or `-1`, 888 for a forbidden
    /// character.
    pub fn new(number: &str, region: Region) -> Result<Self, ValidationError> {
        let region = region.as_param();
        Self::from_params(Params::new(&[("number", number), ("region", &region)]))
    }

    /// Narrows by document type.
    #[must_use]
    pub fn with_typeid(mut self, typeid: DocumentType) -> Self {
        self.typeid = Some(typeid);
        self
    }

    /// The document number.
    pub fn number(&self) -> &str {
        &self.number
    }
    /// The region (never [`Region::All`]).
    pub fn region(&self) -> Region {
        self.region
    }
    /// The document type, when given.
    pub fn typeid(&self) -> Option<DocumentType> {
        self.typeid
    }
}
