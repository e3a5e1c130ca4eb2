//! Alfa-Bank registry answers, every field of the page typed.

use proverka_core::lenient::fields::{DateField, Int, Many, Object, Opt, Text};
use proverka_core::{LenientDate, MalformedAnswer, Provider, RawAnswer};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use serde_json::Value;

use crate::{Error, ProviderError};

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value the page does not list (it says values may change), kept as sent.
            Unknown(String),
        }

        impl $name {
            /// Reads the wire value; unknown values are kept.
            pub fn parse(s: &str) -> Self {
                match s {
                    $($text => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Unknown(s) => s,
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        /// A string: the values the page lists, or another one kept as sent.
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let listed: &[&str] = &[$($text),*];
                schemars::json_schema!({
                    "type": "string",
                    "description": format!("One of {} as the page lists them; a value it does not list is kept as sent", listed.join(", ")),
                })
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Self::parse(&Text::deserialize(d)?.0.unwrap_or_default()))
            }
        }
    };
}

string_enum!(
    /// `listStatus`: the processing status of the uploaded list (статус обработки списка).
    ListStatus {
        /// NEW — accepted for processing.
        New = "NEW",
        /// SUCCESS — processed.
        Success = "SUCCESS",
        /// ERROR — processing failed.
        Error = "ERROR",
        /// IN_PROGRESS — being processed.
        InProgress = "IN_PROGRESS",
        /// TECHNICAL_ERROR — an unexpected technical error.
        TechnicalError = "TECHNICAL_ERROR",
        /// SIGNATURE_CHECKED — the registry's signature was checked (intermediate).
        SignatureChecked = "SIGNATURE_CHECKED",
    }
);

impl ListStatus {
    /// Whether the list will not change any more (SUCCESS, ERROR, TECHNICAL_ERROR).
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Success | Self::Error | Self::TechnicalError)
    }
}

string_enum!(
    /// `status` of one self-employed person in the system (статус самозанятого).
    AccountStatus {
        /// NEW — accepted for processing.
        New = "NEW",
        /// IN_PROGRESS — being processed.
        InProgress = "IN_PROGRESS",
        /// READY — added to the system.
        Ready = "READY",
        /// FAILED — adding failed.
        Failed = "FAILED",
        /// FAILED_SIGNATURE — the signature is not valid.
        FailedSignature = "FAILED_SIGNATURE",
        /// FAILED_BIND — the person refused to grant rights to Alfa-Bank.
        FailedBind = "FAILED_BIND",
        /// FAILED_REGISTRATION — the tax service refused registration.
        FailedRegistration = "FAILED_REGISTRATION",
        /// FAILED_CHECK_TAXPAYER_STATUS — unexpected answer from the tax service.
        FailedCheckTaxpayerStatus = "FAILED_CHECK_TAXPAYER_STATUS",
        /// FAILED_VERIFY — verifying the person's data failed.
        FailedVerify = "FAILED_VERIFY",
        /// FAILED_AGREEMENT — the agreement with Alfa-Bank was not signed.
        FailedAgreement = "FAILED_AGREEMENT",
        /// TECHNICAL_ERROR — a technical error.
        TechnicalError = "TECHNICAL_ERROR",
        /// BIND_REQUESTED — the person must confirm the rights in «Мой налог».
        BindRequested = "BIND_REQUESTED",
        /// REGISTRATION_REQUESTED — registration requested from the tax service.
        RegistrationRequested = "REGISTRATION_REQUESTED",
        /// AGREEMENT_SIGNED — the agreement is signed.
        AgreementSigned = "AGREEMENT_SIGNED",
        /// PASSPORT_CHECKED — the passport is checked.
        PassportChecked = "PASSPORT_CHECKED",
        /// CLIENT_DATA_CHECKED — the personal data are checked.
        ClientDataChecked = "CLIENT_DATA_CHECKED",
        /// TAXPAYER_STATUS_REQUESTED — status requested from the tax service.
        TaxpayerStatusRequested = "TAXPAYER_STATUS_REQUESTED",
        /// TAXPAYER_UNREGISTERED — removed from the tax register.
        TaxpayerUnregistered = "TAXPAYER_UNREGISTERED",
        /// TAXPAYER_UNBOUND — no rights granted to Alfa-Bank.
        TaxpayerUnbound = "TAXPAYER_UNBOUND",
        /// TAXPAYER_REGISTERED — registered with the tax service.
        TaxpayerRegistered = "TAXPAYER_REGISTERED",
        /// SIGNATURE_CHECKED — the signature is checked.
        SignatureChecked = "SIGNATURE_CHECKED",
        /// TAXPAYER_ALREADY_BOUND — rights already granted to Alfa-Bank.
        TaxpayerAlreadyBound = "TAXPAYER_ALREADY_BOUND",
        /// TAXPAYER_ALREADY_REGISTERED — already registered with the tax service.
        TaxpayerAlreadyRegistered = "TAXPAYER_ALREADY_REGISTERED",
    }
);

string_enum!(
    /// `citizenship` (гражданство).
    Citizenship {
        /// RU — Russia.
        Ru = "RU",
        /// BY — Belarus.
        By = "BY",
        /// AM — Armenia.
        Am = "AM",
        /// KZ — Kazakhstan.
        Kz = "KZ",
        /// KG — Kyrgyzstan.
        Kg = "KG",
    }
);

string_enum!(
    /// `idCard.type`: the document that confirms the right to live in Russia.
    IdCardType {
        /// residencePermit — вид на жительство.
        ResidencePermit = "residencePermit",
        /// residenceCertificate — документ, удостоверяющий проживание.
        ResidenceCertificate = "residenceCertificate",
        /// migrationCard — миграционная карта.
        MigrationCard = "migrationCard",
    }
);

proverka_core::lenient_struct! {
    /// `pagination`.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct Pagination {
        /// Records per page.
        pub limit: Option<i64> => Int,
        /// Records skipped.
        pub offset: Option<i64> => Int,
        /// All records of the list.
        pub total_count: Option<i64> = "totalCount" => Int,
    }
}

proverka_core::lenient_struct! {
    /// The 200 answer: one page of a registry.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct Registry {
        /// Paging data.
        pub pagination: Option<Pagination> => Object<Pagination>,
        /// The request's id.
        pub request_id: Option<String> = "requestId" => Text,
        /// The client's own id for the request.
        pub external_id: Option<String> = "externalId" => Text,
        /// The list's processing status.
        pub list_status: Option<ListStatus> = "listStatus" => Opt<ListStatus>,
        /// When the request was created (ISO 8601, as sent).
        pub created_date: Option<String> = "createdDate" => Text,
        /// The people on this page.
        pub selfemployed_account: Vec<Account> = "selfemployedAccount" => Many<Account>,
        /// Errors processing the list as a whole.
        pub error: Option<ListError> => Object<ListError>,
    }
}

proverka_core::lenient_struct! {
    /// One person of the list and their status.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct Account {
        /// The person's data.
        pub selfemployed: Option<SelfEmployed> => Object<SelfEmployed>,
        /// The person's status.
        pub status: Option<AccountStatus> => Opt<AccountStatus>,
        /// When the status changed.
        pub updated_date: Option<String> = "updatedDate" => Text,
        /// Errors processing this record.
        pub error_record: Vec<ErrorRecord> = "errorRecord" => Many<ErrorRecord>,
    }
}

proverka_core::lenient_struct! {
    /// The self-employed person (персональные данные: handle as such).
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct SelfEmployed {
        /// Name and INN.
        pub personal_information: Option<PersonalInformation> = "personalInformation" => Object<PersonalInformation>,
        /// Телефон.
        pub phone: Option<String> => Text,
        /// Дата рождения.
        pub birth_date: Option<LenientDate> = "birthDate" => DateField,
        /// Место рождения.
        pub birth_place: Option<String> = "birthPlace" => Text,
        /// Гражданство.
        pub citizenship: Option<Citizenship> => Opt<Citizenship>,
        /// Паспорт.
        pub passport: Option<Passport> => Object<Passport>,
        /// Адрес проживания.
        pub address: Option<String> => Text,
        /// Email.
        pub email: Option<String> => Text,
        /// Documents of the right to live in Russia (the page says a list, its sample shows one
        /// object: both are read).
        pub id_card: Vec<IdCard> = "idCard" => Many<IdCard>,
    }
}

proverka_core::lenient_struct! {
    /// `personalInformation`.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    pub struct PersonalInformation {
        /// ИНН (kept as sent: the page's sample is not a valid INN).
        pub vatin: Option<String> => Text,
        /// Фамилия.
        pub surname: Option<String> => Text,
        /// Имя.
        pub name: Option<String> => Text,
        /// Отчество.
        pub patronymic: Option<String> => Text,
    }
}

proverka_core::lenient_struct! {
    /// `passport`.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct Passport {
        /// Серия (Russian passports).
        pub series: Option<String> => Text,
        /// Номер.
        pub number: Option<String> => Text,
        /// Дата выдачи.
        pub date_of_issue: Option<LenientDate> = "dateOfIssue" => DateField,
        /// Код подразделения (Russian passports).
        pub code_of_issue: Option<String> = "codeOfIssue" => Text,
        /// Дата окончания действия (foreign passports).
        pub date_of_expiry: Option<LenientDate> = "dateOfExpiry" => DateField,
        /// Кем выдан.
        pub authority: Option<String> => Text,
    }
}

proverka_core::lenient_struct! {
    /// `idCard`.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct IdCard {
        /// The document's type.
        #[serde(rename = "type")]
        pub kind: Option<IdCardType> = "type" => Opt<IdCardType>,
        /// Номер.
        pub number: Option<String> => Text,
        /// Valid from.
        pub date_of_effective: Option<LenientDate> = "dateOfEffective" => DateField,
        /// Valid until.
        pub date_of_expiry: Option<LenientDate> = "dateOfExpiry" => DateField,
    }
}

proverka_core::lenient_struct! {
    /// `errorRecord`: an error processing one record.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    pub struct ErrorRecord {
        /// The field at fault.
        pub field: Option<String> => Text,
        /// What is wrong.
        pub message: Option<String> => Text,
    }
}

proverka_core::lenient_struct! {
    /// `error`: an error processing the list.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, schemars::JsonSchema)]
    pub struct ListError {
        /// Код ошибки.
        pub code: Option<String> => Text,
        /// Описание ошибки.
        pub message: Option<String> => Text,
    }
}

impl Registry {
    /// Whether the answer will not change any more: the list's status is terminal and nobody
    /// on it is still in a `*_REQUESTED` state (waiting on the tax service or on the person).
    pub fn is_settled(&self) -> bool {
        self.list_status
            .as_ref()
            .is_some_and(ListStatus::is_terminal)
            && !self.selfemployed_account.iter().any(|a| {
                a.status
                    .as_ref()
                    .is_some_and(|s| s.as_str().ends_with("_REQUESTED"))
            })
    }
}

/// Reads a bank answer.
///
/// # Errors
/// [`Error::Provider`] for error statuses, [`Error::Malformed`] for bodies that are not the
/// bank's JSON.
pub fn parse(raw: &RawAnswer) -> Result<Registry, Error> {
    let malformed = |f: fn(Provider, u16, &[u8]) -> MalformedAnswer| {
        Error::Malformed(f(Provider::Alfa, raw.status, &raw.body))
    };
    let body = proverka_core::json_body(&raw.body);
    if raw.status == 200 {
        let valid_json = || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        return serde_json::from_slice::<Registry>(body).map_err(|_| {
            if valid_json() {
                malformed(MalformedAnswer::unexpected_shape)
            } else {
                malformed(MalformedAnswer::describe)
            }
        });
    }
    if body.is_empty() {
        return Err(Error::Provider(ProviderError::Bodiless {
            status: raw.status,
        }));
    }
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(body) else {
        return Err(malformed(MalformedAnswer::describe));
    };
    let Some(error) = map
        .remove("error")
        .and_then(proverka_core::lenient::text_of)
    else {
        return Err(malformed(MalformedAnswer::unexpected_shape));
    };
    let description = map
        .remove("error_description")
        .and_then(proverka_core::lenient::text_of);
    Err(Error::Provider(ProviderError::from_answer(
        raw.status,
        error,
        description,
    )))
}
