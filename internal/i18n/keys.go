package i18n

// Report labels: the words of the XLSX and PDF reports.
const (
	ReportTitle Key = iota
	ReportOutletTitle
	ReportCityTitle
	ReportCity
	ReportOutlet
	ReportCounter
	ReportDate
	ReportRunID
	ReportGenerated
	ReportSource
	ReportStatus
	ReportComplete
	ReportIncomplete
	ReportIncompleteNote
	ReportUnit
	ReportRevenue
	ReportCategory
	ReportItem
	ReportGross
	ReportReversed
	ReportNet
	ReportTotal
	ReportDeposit
	ReportPayMethod
	ReportExpected
	ReportDeposited
	ReportVariance
	ReportResult
	ReportShort
	ReportOver
	ReportBalanced
	ReportExceptions
	ReportCode
	ReportDescription
	ReportSeverity
	ReportFeedCol
	ReportTxn
	ReportAmount
	ReportDetail
	ReportSourceCol
	ReportNoExceptions
	ReportExceptionCount // %d total, %d errors, %d warnings
	ReportSevError
	ReportSevWarning
	ReportSignoff
	ReportClerk
	ReportReviewer
	ReportSignDate
	ReportSignNote
	ReportFooter     // the PDF footer: %d the page, {nb} the page count
	ReportXlsxFooter // the print footer of every sheet: &P the page, &N the pages
	ReportSummarySheet
	ReportExceptionSheet
	ReportCountersSheet
	ReportOutletsSheet
	ReportLine
	ReportCounters
	ReportIncompleteCount
	ReportErrors
	ReportWarnings
	ReportTotalOf // %s: what the total is of
	// Roll-up PDFs and the open day (issue 18.1–2).
	ReportNoCounter        // the roll-up line of findings that belong to no valid counter
	ReportDayOpen          // the mark of a run whose business day has not ended
	ReportDayOpenNote      // what the mark means
	ReportRollupNet        // the roll-up PDF's net revenue table
	ReportRollupDeposit    // the roll-up PDF's deposit table
	ReportRollupIncomplete // %d incomplete counters of %d

	// Certified report and hints (issue 14).
	ReportHints       // the title of the legend of what to do per code
	ReportWhyLine     // an incomplete reason: code, description, feed, detail
	ReportItemState   // the label of an item's state in the certified report
	ReportItemReason  // its reason
	ReportItemText    // its text
	ReportItemComment // the reviewer's comment
	// WORKFLOW.md's item states.
	ReportStateOpen
	ReportStateExplained
	ReportStateAccepted
	ReportStateRejected
	ReportStateResolved
	ReportStateAcknowledged
	ReportSignState       // the header row of the certified report
	ReportCertifiedAwaits // certified, not yet approved
	ReportApprovedState   // approved
	ReportCertifiedAt     // the clerk's sign-off time
	ReportApprovedAt      // the reviewer's
	ReportCertNote        // %s: run id

	// Month-end close (issue 15): the period reports and the period checks' details.
	PeriodTitle
	PeriodOutletTitle
	PeriodCityTitle
	PeriodRange
	PeriodDays
	PeriodTxnCount
	PeriodDaysShort
	PeriodDaysOver
	PeriodWorstShortfall
	PeriodByDay
	PeriodByCounter
	PeriodByOutlet
	PeriodFindings
	PeriodOpenItems
	PeriodNone
	PeriodRunUsed
	PeriodSignoffStatus
	PeriodDataStatus
	PeriodAge
	PeriodOverdue
	PeriodState
	PeriodDetailDayMissing      // %s: the date
	PeriodDetailDayIncomplete   // %s: the run id
	PeriodDetailNotApproved     // %d days, %s the dates
	PeriodDetailShortRecurrent  // %d dates, %s the dates
	PeriodDetailShortCumulative // %s the sum, %s the limit
	PeriodDetailAlternating     // %d in a row, %s first date, %s last date
	PeriodDetailRefundNear      // %d refunds, %s their txn ids
	PeriodDetailItemsOverdue    // %d items
	PeriodNotApprovedCount
	PeriodShortCount

	// Page texts: the words of the web pages, named by their templates (see PageKey).
	PageApp
	PageLogin
	PageLogout
	PageUsername
	PagePassword
	PageLoginFailed
	PageLoginLimited
	PageLoginExpired
	PageRoleClerk
	PageRoleReviewer
	PageRoleAuditor
	PageDate
	PageShow
	PageRunButton
	PageRunHint
	PageRerunButton
	PageRerunHint
	PageRerunIncomplete
	PageRunning
	PageStageQueued
	PageStageRender
	PageStageScan
	PageStagePull
	PageStageRead
	PageStageReports
	PageStageStart
	PageElapsed
	PageRunFailed
	PageNoscriptRefresh
	PageNoCounters
	PageCounterAbsent
	PageNoRunView
	PageCity
	PageOutlet
	PageCounter
	PageRunID
	PageGenerated
	PageSource
	PageStatus
	PageComplete
	PageIncomplete
	PageIncompleteNote
	PageDownloadPDF
	PageDownloadXlsx
	PageDownloads
	PageRevenue
	PageRevenueDet
	PageUnit
	PageCategory
	PagePayMethod
	PageTxnCount
	PageGross
	PageReversed
	PageNet
	PageTotal
	PageNoRevenue
	PageDeposit
	PageExpected
	PageDeposited
	PageVariance
	PageResult
	PageShort
	PageOver
	PageBalanced
	PageNoDeposit
	PageExceptions
	PageExcCount
	PageNoExceptions
	PageSeverity
	PageCode
	PageDescription
	PageFeed
	PageTxn
	PageAmount
	PageDetail
	PageSourceCol
	PageCityWide
	PageSignoff
	PageStateOpen
	PageStateCertified
	PageStateApproved
	PageStateReturned
	PageStateReopened
	PagePinnedNote
	PageNewerRun
	PageCertify
	PageCertifyHint
	PageCertifyComment
	PageApprove
	PageReturn
	PageReopen
	PageComment
	PageReopenHint
	PageHistory
	PageActCertify
	PageActApprove
	PageActReturn
	PageActReopen
	PageActRepair
	PageRepairComment
	PageWho
	PageWhen
	PageAction
	PageErrCommentRequired
	PageErrErrorsNeedNote
	PageErrIncomplete
	PageErrStale
	PageErrState
	PageErrConfirm
	PageOkCertify
	PageOkApprove
	PageOkReturn
	PageOkReopen
	PageOkRun
	PageForbidden
	PageForbiddenCounter
	PageNotFound
	PageBadRequest
	PageServerError
	PageBack
	PageCountersOfDay
	PageErrorsN
	PageRuns
	PageCurrent
	PageStarted
	PageFinished
	PageToolVersion
	PageCountersN
	PageExceptionsN
	PageCompare
	PageRunA
	PageRunB
	PageCompareButton
	PageNeedTwoRuns
	PageSignoffLog
	PageNoEvents
	PageDiffTitle
	PageDiffEqual
	PageDiffCause
	PageCauseInputs
	PageCauseVersion
	PageCauseBoth
	PageCauseNeither
	PageDiffTotals
	PageDiffFeeds
	PageKind
	PageFTxnCount
	PageFGross
	PageFReversed
	PageFNet
	PageFExpected
	PageFDeposited
	PageFVariance
	PageFSeverity
	PageFAmount
	PageFDetail
	PageFCity
	PageFOutletID
	PageFSHA256
	PageFRowsSHA256
	PageFInputs
	PageFFiles
	PageFPulls
	PageFBytes
	PageFRowsRead
	PageFValid
	PageFRejected
	PageDiffers
	PageSepColon
	PageSepComma
	PageErrFuture
	PageErrTooOldClerk
	PageErrTooOldReviewer
	PageDiffByCounter
	PageDiffRows
	PageLinesChanged
	PageVarLinesChanged
	PageExcAdded
	PageExcResolved
	PageExcChanged
	PageNetDelta
	PageVarianceDelta
	PageApproveComment
	PageReturnComment
	PageReopenComment
	PageChange
	PageItem
	PageField
	PageOld
	PageNew
	PageDelta
	PageKindSettlement
	PageKindVariance
	PageKindException
	PageChangeChanged
	PageChangeAdded
	PageChangeRemoved
	PageChangeResolved
	PageDownloadDiff
	PageFeeds
	PageRowsRead
	PageValid
	PageRejected
	PageFiles
	PagePulls
	PageByCode
	PageOutputs
	PagePath
	PageSize
	PageAllDates
	PageState
	PageNetTotal
	PageVarianceTotal
	PageReviewerHint
	PageAuditorCounters
	PageRunOf
	PageCompleteShort
	PageIncompleteShort
	PageOk
	PagePinnedMissing
	PageReportAltered
	PageLatestComment
	PageAuditRunsHint

	// Workflow (issue 14): items, queues, the trail.
	PageWfCity
	PageWfOverdue
	PageWfColId
	PageWfColVersion
	PageWfColKey
	PageWfColAge
	PageWfColOverdue
	PageWfColReason
	PageWfColText
	PageWfUploadEmpty
	PageWfUploadFailed
	PageWfUploadRefused
	PageWfUploadNotXlsx
	PageWfUploadRow
	PageWfUploadColumns
	PageWfBadId
	PageWfBadIdentity
	PageWfBadScope
	PageErrReload
	PageWfBadState
	PageWfBadReason
	PageWfTrail
	PageWfItem
	PageWfStOpen
	PageWfStExplained
	PageWfStAccepted
	PageWfStRejected
	PageWfStResolved
	PageWfStAcknowledged
	PageActExplain
	PageActAccept
	PageActReject
	PageActAcknowledge
	PageActResolve
	PageActReraise
	PageActRun
	PageActLogin
	PageActLoginFailed
	PageActLockout
	PageActUserChange
	PageActMigrate
	PageActUpload
	PageWfQueue
	PageWfSla
	PageWfUploadNothing
	PageWfUpload
	PageWfUploadButton
	PageWfDaysClerk
	PageWfDaysReviewer
	PageWfErrorsOpen
	PageWfWarningsOpen
	PageWfAtStake
	PageWfDays
	PageWfNothing
	PageWfItemsClerk
	PageWfItemsReviewer
	PageWfItemsOverdue
	PageWfCityView
	PageWfCityHint
	PageWfBucket
	PageWfExplanation
	PageWfActions
	PageWfReviewerComment
	PageWfPickReason
	PageWfNeedSlip
	PageWfNeedTicket
	PageWfNeedForm
	PageWfNeedText
	PageWfTextHint
	PageWfExplain
	PageWfAcknowledge
	PageWfAccept
	PageWfRejectWhy
	PageWfReject
	PageWfErrorsLeft
	PageWfAckAll
	PageWfCityFindings
	PageWfDayOpen
	PageWfGateCertify
	PageWfGateApprove
	PageWfCertifiedDoc
	PageErrDayOpen
	PageErrItemsOpen
	PageErrItemsUndecided
	PageErrReason
	PageErrItemState
	PageOkExplain
	PageOkAccept
	PageOkReject
	PageOkAcknowledge
	PageOkUpload
	// Period close on the page (issues 14–15)
	PageActPeriodClose
	PageActPeriodReopen
	PagePeriodNav
	PagePeriodTitle
	PagePeriodRange
	PagePeriodPrev
	PagePeriodNext
	PagePeriodIsOpen
	PagePeriodClosedBy
	PagePeriodReport
	PagePeriodNoReport
	PagePeriodBuild
	PagePeriodRebuild
	PagePeriodBuilding
	PagePeriodBuildFailed
	PagePeriodGenerated
	PagePeriodCounters
	PagePeriodFindings
	PagePeriodFindingsMore
	PagePeriodNone
	PagePeriodDownloads
	PagePeriodOutletReports
	PagePeriodUnsettled
	PagePeriodUnsettledHint
	PagePeriodAllApproved
	PagePeriodDays
	PagePeriodDates
	PagePeriodItems
	PagePeriodItemsHint
	PagePeriodNoItems
	PagePeriodClose
	PagePeriodCloseHint
	PagePeriodReopen
	PagePeriodTrail
	PageErrPeriodClosed
	PageErrPeriodNoReport
	PageErrPeriodIsClosed
	PageErrPeriodNotClosed
	PageErrPeriodComment
	PageErrPeriodBusy
	PageOkPeriodClose
	PageOkPeriodReopen
	PageOkPeriodBuild
	// Page polish and refresh (issues 17.2, 18.5).
	PageWarningsN
	PageRefreshButton
	PageRefreshHint
	PageRefreshWait
	PageOkRefresh
	PageErrRefreshPinned
	PageErrRefreshWait
	PageErrRefreshSource
	PageRefreshing
	PageErrRefreshBusy

	// Fixes after the review of issue 14 (fix14).
	PageErrOwnExplanation
	PageErrNoReports

	// Exception details and reject reasons: the words the engine writes around codes, amounts,
	// ids and sources. A language may reorder the arguments with explicit indexes (%[2]s).

	// Reading an input (FEED_MISSING, FEED_TOTAL_MISMATCH).
	DetailCannotRead       // input, error
	DetailInputTooLarge    // input, limit
	DetailRawUnavailable   // error: the raw column of a reject whose line could not be read again
	DetailWrongFeed        // wrong feed, this feed, header source
	DetailNoHeaderNearest  // feed, line, missing columns
	DetailNoHeader         // feed
	DetailSetAside         // input, reason, lines
	DetailRejectFile       // reason: the reject reason of a line of such an input
	DetailFooterCountNaN   // count text
	DetailFooterCount      // count, read
	DetailFooterAmountNaN  // amount text
	DetailFooterAmountOver // amount, max
	DetailFooterAmount     // amount, sum
	DetailInputProblems    // input, problems

	// A row's fields (MALFORMED_ROW, WRONG_DATE): column, quoted text[, ...].
	DetailFieldEmpty
	DetailFieldBlank // a cell of spaces only
	DetailFieldNotDate
	DetailFieldNotTime
	DetailFieldNotWhole
	DetailFieldNotIdent
	DetailFieldNotDigits
	DetailFieldNegative
	DetailFieldDecimals
	DetailFieldNotMoney
	DetailFieldTooLarge
	DetailFieldOther // column, text, error: an error the table has no text for
	DetailFieldNotOneOf
	DetailFieldZero
	DetailFieldAboveCeiling
	DetailPayEmptyWithAmount
	DetailAfter
	DetailSerialLength
	DetailWrongDate

	// Whose row it is, duplicates.
	DetailDuplicateInput
	DetailForeignRow
	DetailKeyConflict
	DetailDuplicateTxn  // txn, kept feed, kept source, tIdentical or tDiffers
	DetailDuplicateSlip // slip, kept source, tIdentical or tDiffers
	DetailIdentical
	DetailDiffers

	// Completeness (FEED_MISSING of the connectors and of the layout).
	DetailNoCounterFile  // feed, counter
	DetailNoFeedFile     // feed, feed's Chinese name, folder
	DetailPullFailed     // path, error, tries
	DetailPullFailedLate // path, error, tries, deadline
	DetailPullNotDone    // path, deadline
	DetailOneTry
	DetailTries
	// Why a pull failed, short (issue 14: the detail in the run's language).
	DetailErrTimeout
	DetailErrRefused
	DetailErrReset
	DetailErrHost   // host name
	DetailErrStatus // the API's status line

	// Settlement.
	DetailDeposit // pay, expected, deposited, variance
	DetailSummary // category, pay, count, amount, count, amount

	// Cards and invoices.
	DetailSerialBelow
	DetailQtySerials
	DetailCardAmount
	DetailBeyondHolding
	DetailAndMore
	DetailSerialOverlap
	DetailInvoiceOn
	DetailInvoiceSecond
	DetailInvoiceOrphan
	DetailInvoiceAmount
	DetailInvoiceNotVoided
	DetailInvoiceGap

	// Purchases, reversals, remote payments.
	DetailPurchaseNoOrder
	DetailOrderNoPurchase
	DetailIMEISold
	DetailVoidOtherDay
	DetailRefundNoApprover
	DetailRefundSelfApproved
	DetailOriginal // feed, txn, date: "the original" of a reversal
	DetailOrphanToday
	DetailTooOld
	DetailNoStoredRun
	DetailOrphanStored
	DetailVoidPartial
	DetailMethodMismatch
	DetailReversalsReach
	DetailClearingPending
	DetailClearingRejected

	// Operations (issue 16): settle doctor and settle prune.
	OpsLevelOK
	OpsLevelWarn
	OpsLevelProblem
	OpsStoreMissing
	OpsStoreNotDir
	OpsStoreWritable
	OpsStoreNotWritable
	OpsStoreWorldWritable
	OpsDirsNotWritable
	OpsSpaceOK
	OpsSpaceLow
	OpsSpaceShort
	OpsSpaceNoRuns
	OpsSpaceUnknown
	OpsLockHeld
	OpsLocksFree
	OpsLocksUnknown
	OpsSourceDemo
	OpsSourceToken
	OpsSourceNoToken
	OpsSourceDir
	OpsSourceDirBad
	OpsUsersOK
	OpsUsersBad
	OpsUsersMissing
	OpsConfigOK
	OpsConfigBad
	OpsSummaryOK
	OpsSummaryBad
	OpsPruneRemoved
	OpsPruneWouldRemove
	OpsPrunePolicy
	OpsPruneLeftover
	OpsPruneBusy
	OpsPruneTotal
	OpsPruneWouldTotal
	// Page polish (issue 18.5): settle users add.
	OpsUsersUnseenCounters
	OpsUsersUnseenOutlets
	OpsUsersNoRuns

	// Operations and kept inputs (issue 16 after 17): prune and doctor over <date>/inputs.
	OpsPruneInputs
	OpsPruneCache
	OpsPruneInputsHeld
	OpsInputsUse
	OpsInputsUnknown

	nKeys
)

// firstReport and lastReport bound the report labels, which a PDF font is cut to; firstPage
// and lastPage bound the page texts; firstDetail and lastDetail the engine's details.
const (
	firstReport, lastReport = ReportTitle, PeriodShortCount
	firstDetail, lastDetail = DetailCannotRead, DetailClearingRejected
	firstPage, lastPage     = PageApp, PageErrNoReports
	// Operations (issue 16): the texts of settle doctor and settle prune, after the details.
	firstOps, lastOps = OpsLevelOK, OpsInputsUnknown
)
